"""Small shared GraphQL types."""

from __future__ import annotations

import strawberry

from domain.records import Money


@strawberry.type(name="Money", description="An amount in whole units of `currency` (ISO 4217).")
class MoneyType:
    amount: int
    currency: str

    @classmethod
    def of(cls, amount: int | None, currency: str | None) -> MoneyType | None:
        if amount is None or currency is None:
            return None
        return cls(amount=amount, currency=currency)

    @classmethod
    def from_record(cls, money: Money | None) -> MoneyType | None:
        return None if money is None else cls(amount=money.amount, currency=money.currency)


@strawberry.type(name="SalaryRange")
class SalaryRangeType:
    min: MoneyType | None
    max: MoneyType | None
    currency: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None
