"""Pro-rated refund: the unused share of an invoice amount, in cents, rounded down."""
import sys


def prorate(amount_cents: int, days_used: int, days_in_period: int) -> int:
    if days_in_period <= 0 or not 0 <= days_used <= days_in_period:
        raise ValueError("days_used must be between 0 and days_in_period")
    return amount_cents * (days_in_period - days_used) // days_in_period


if __name__ == "__main__":
    amount, used, period = (int(a) for a in sys.argv[1:4])
    print(prorate(amount, used, period))
