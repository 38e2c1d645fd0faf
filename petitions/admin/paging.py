"""Lists that grow with a viral petition: counted exactly up to a cap and estimated beyond it,
and paged as deep as the cap. Counting a million rows, or skipping 999,900 of them to reach a
deep page, would cost every view a scan of the petition; staff reach older signatures by
searching, filtering or listing oldest first (docs/performance.md, "Staff pages")."""

from __future__ import annotations

import json
import math

from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


def estimated_count(queryset) -> int:
    """The number of rows PostgreSQL's planner expects the queryset to return (from the table's
    statistics, without reading the rows); an exact count on other databases."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.count()
    plan = json.loads(queryset.order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class CappedPaginator(Paginator):
    """Counts exactly up to CAP rows and estimates beyond (`estimated` says which); pages only
    as deep as CAP rows, and a page number past the last listed page shows the last one."""

    CAP = 10_000

    estimated = False

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by()[: self.CAP + 1].count()
        if counted <= self.CAP:
            return counted
        self.estimated = True
        return max(self.CAP + 1, estimated_count(self.object_list))

    @cached_property
    def num_pages(self) -> int:
        listed = min(self.count, self.CAP)
        if listed == 0 and not self.allow_empty_first_page:
            return 0
        return max(1, math.ceil(max(1, listed - self.orphans) / self.per_page))

    def validate_number(self, number) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 1
        return super().validate_number(min(max(number, 1), max(self.num_pages, 1)))


class CappedChangeList(ChangeList):
    """Django's change list, showing as current the page CappedPaginator shows, and sorting
    only by the columns in the admin's sortable_by, even when a URL asks for another."""

    def get_ordering(self, request, queryset):
        asked = self.params.get(ORDER_VAR)
        if asked is not None and self.sortable_by is not None:
            kept = [column for column in asked.split(".") if self._sortable(column)]
            if kept:
                self.params[ORDER_VAR] = ".".join(kept)
            else:
                del self.params[ORDER_VAR]  # the admin's own order
        return super().get_ordering(request, queryset)

    def _sortable(self, column: str) -> bool:
        """Whether an entry of the o= parameter ("-8": the 8th column, descending) names a
        column in sortable_by."""
        index = column.rpartition("-")[2]
        if not index.isdigit() or int(index) >= len(self.list_display):
            return False
        return self.list_display[int(index)] in self.sortable_by

    def get_results(self, request) -> None:
        super().get_results(request)
        self.page_num = self.paginator.validate_number(self.page_num)
