"""Domain events in the customer-row contract (`cherish.db.customer_rows`)."""

from __future__ import annotations

from cherish.db.customer_rows import CustomerRows, declare

declare(
    CustomerRows("domain_events", merge="move", erase="delete",
                 why="a consumer that has not read them yet acts for the survivor; the data may quote the person "
                     "(a comment), and nothing is to be done for someone erased"),
)
