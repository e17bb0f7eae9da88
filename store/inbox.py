"""Queries of the inbox, by set: what one page of tweets needs, looked up and written at once.

A page of tweets (up to 100) is stored in one transaction with a handful of statements,
whatever its size: each lookup takes the page's ids as one `IN` list, and the rows it makes
are inserted with one multi-row statement each, through SQLAlchemy Core, because the ORM's
per-object bookkeeping cost more than the database did.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from pydantic_core import PydanticUndefined
from sqlalchemy import Column, Table, bindparam, case, func, insert, inspect, select, update
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from store.models import Customer, Message, Ticket, TicketState

Model = TypeVar("Model", Customer, Ticket, Message)

_CUSTOMER: Table = Customer.__table__  # type: ignore[attr-defined]
_TICKET: Table = Ticket.__table__  # type: ignore[attr-defined]
_MESSAGE: Table = Message.__table__  # type: ignore[attr-defined]

_REFRESH_CUSTOMER = (
    update(_CUSTOMER)
    .where(_CUSTOMER.c.id == bindparam("customer_id"))
    .values(
        username=bindparam("username"),
        name=bindparam("name"),
        followers=bindparam("followers"),
        verified=bindparam("verified"),
        updated_at=bindparam("updated_at"),
    )
)


def customers(*, session: Session, x_user_ids: Collection[str]) -> dict[str, dict[str, Any]]:
    """The known customers among these X user ids, as plain rows by X id."""
    if not x_user_ids:
        return {}
    found = session.connection().execute(
        select(*_CUSTOMER.c).where(_CUSTOMER.c.x_user_id.in_(list(x_user_ids)))
    )
    return {row.x_user_id: dict(row._mapping) for row in found}


def insert_customers(*, session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert new customers; their ids, in the order of `rows`."""
    return _insert(session, _CUSTOMER, rows, _CUSTOMER.c.x_user_id)


def refresh_customers(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write what X says about known customers now (`customer_id` and the changed fields)."""
    if rows:
        session.connection().execute(_REFRESH_CUSTOMER, list(rows))


def insert_tickets(*, session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert new tickets; their numbers, in the order of `rows` (so in tweet order).

    A page opens at most one ticket per customer (a second tweet joins the first's), so
    the customer tells the numbers apart.
    """
    return _insert(session, _TICKET, rows, _TICKET.c.customer_id)


def insert_messages(*, session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert messages (of one channel); their ids, in the order of `rows`."""
    return _insert(session, _MESSAGE, rows, _MESSAGE.c.external_id)


def _insert(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], key: Column[Any]
) -> list[int]:
    """Insert rows with one statement; their ids, in the order of `rows`.

    The database returns the ids with `key`, unique among the rows, because the order of a
    multi-row RETURNING is not promised (SQLAlchemy would send row by row to keep it).
    """
    if not rows:
        return []
    keys = [row[key.name] for row in rows]
    if len(set(keys)) < len(keys):  # not told apart: one statement per row, in order
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return [int(row[0]) for row in session.connection().execute(statement, list(rows))]
    found = session.connection().execute(insert(table).returning(table.c.id, key), list(rows))
    ids = {row[1]: int(row[0]) for row in found}
    return [ids[k] for k in keys]


def tickets_of_messages(
    *, session: Session, channel: str, external_ids: Collection[str]
) -> dict[str, int]:
    """The ticket of each stored message among these X ids (tweets a page replies to)."""
    if not external_ids:
        return {}
    found = session.connection().execute(
        select(_MESSAGE.c.external_id, _MESSAGE.c.ticket_id)
        .where(_MESSAGE.c.channel == channel)
        .where(_MESSAGE.c.external_id.in_(list(external_ids)))
    )
    return {row.external_id: int(row.ticket_id) for row in found}


def latest_tickets_in_conversations(
    *, session: Session, conversation_ids: Collection[str]
) -> dict[str, int]:
    """For each X conversation, the newest ticket that holds a message of it."""
    if not conversation_ids:
        return {}
    found = session.connection().execute(
        select(_MESSAGE.c.conversation_id, func.max(_MESSAGE.c.ticket_id))
        .where(_MESSAGE.c.conversation_id.in_(list(conversation_ids)))
        .group_by(_MESSAGE.c.conversation_id)
    )
    return {row[0]: int(row[1]) for row in found}


@dataclass(frozen=True)
class CustomerTickets:
    """What threading needs of one customer's tickets."""

    latest: int  # the newest ticket, in any state
    open: int | None  # the newest ticket that is not resolved
    count: int


def tickets_of_customers(
    *, session: Session, customer_ids: Collection[int]
) -> dict[int, CustomerTickets]:
    """For each of these customers that has tickets: the newest, the newest open, how many."""
    if not customer_ids:
        return {}
    found = session.connection().execute(
        select(
            _TICKET.c.customer_id,
            func.max(_TICKET.c.id),
            func.max(case((_TICKET.c.state != TicketState.RESOLVED.value, _TICKET.c.id))),
            func.count(),
        )
        .where(_TICKET.c.customer_id.in_(list(customer_ids)))
        .group_by(_TICKET.c.customer_id)
    )
    return {
        int(row[0]): CustomerTickets(
            latest=int(row[1]), open=None if row[2] is None else int(row[2]), count=int(row[3])
        )
        for row in found
    }


def tickets(*, session: Session, ticket_ids: Collection[int]) -> dict[int, Ticket]:
    """These tickets, by number, as the session's objects (a tweet may change them)."""
    if not ticket_ids:
        return {}
    found = session.exec(orm_select(Ticket).where(col(Ticket.id).in_(list(ticket_ids))))
    return {ticket.id: ticket for ticket in found if ticket.id is not None}


def instance(model: type[Model], values: Mapping[str, Any]) -> Model:
    """`model(**values)` for values the inbox made itself, typed, at a twentieth of the cost.

    A page builds hundreds of these (its customers, tickets and messages, for the cards),
    and pydantic's validation in the constructor was a third of the bot's own work per
    tweet. The object is set up as SQLAlchemy sets up one it loads: its defaults, then the
    values, in the instance's dict, with no change history.
    """
    defaults, factories = _defaults(model)
    obj: Model = inspect(model).class_manager.new_instance()
    state = obj.__dict__
    state.update(defaults)
    for name, factory in factories.items():
        if name not in values:
            state[name] = factory()
    state.update(values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


@cache
def _defaults(model: type[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A model's plain defaults, and the factories of the others."""
    defaults: dict[str, Any] = {}
    factories: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.default_factory is not None:
            factories[name] = info.default_factory
        elif info.default is not PydanticUndefined:
            defaults[name] = info.default
    return defaults, factories
