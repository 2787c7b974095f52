"""What the mart holds: where every current order went, read from the warehouse."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdp_loader.errors import LoaderError
from cdp_loader.warehouse import BUILD_HINT, Warehouse, WarehouseRef, opened


@dataclass(frozen=True)
class MartCounts:
    """The reconciliation of one build, with the quarantine broken down by reason."""

    current: int
    shipped: int
    deleted: int
    excluded: int
    quarantined: int
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    extension_attributes_dropped: int = 0

    @property
    def reconciles(self) -> bool:
        return self.current == self.shipped + self.deleted + self.excluded + self.quarantined

    def lines(self) -> list[str]:
        """The counts as the report prints them."""
        lines = [
            f"current orders   {self.current:>10,}",
            f"  shipped        {self.shipped:>10,}",
            f"  deleted        {self.deleted:>10,}",
            f"  excluded       {self.excluded:>10,}  (test orders)",
            f"  quarantined    {self.quarantined:>10,}",
        ]
        lines += [
            f"    {reason:<22}{count:>8,}"
            for reason, count in self.quarantined_by_reason.items()
        ]
        lines.append(f"extension attributes dropped {self.extension_attributes_dropped:,}")
        lines.append("counts reconcile" if self.reconciles else "COUNTS DO NOT RECONCILE")
        return lines

    def to_dict(self) -> dict[str, object]:
        return {
            "current": self.current,
            "shipped": self.shipped,
            "deleted": self.deleted,
            "excluded": self.excluded,
            "quarantined": self.quarantined,
            "quarantined_by_reason": self.quarantined_by_reason,
            "extension_attributes_dropped": self.extension_attributes_dropped,
            "reconciles": self.reconciles,
        }


# The order of the quarantine reasons is their precedence in raw_warehouse.md.
_REASONS_IN_PRECEDENCE = (
    "invalid_ordered_at", "missing_reference", "reference_collision", "unmapped_status",
    "missing_point_of_sale", "invalid_currency", "missing_price", "no_items",
    "invalid_item", "no_contact",
)


def read_mart_counts(database: WarehouseRef | Warehouse) -> MartCounts:
    """Counts of the latest build of the mart in the warehouse."""
    with opened(database) as warehouse:
        if not {"cdp_order_reconciliation", "cdp_order_quarantine", "cdp_orders"} <= \
                warehouse.tables():
            raise LoaderError(f"{warehouse.target.describe()} has no CDP mart: {BUILD_HINT}")
        rows = warehouse.fetch(
            "select current_orders, shipped_orders, deleted_orders, excluded_orders, "
            f"quarantined_orders from {warehouse.relation('cdp_order_reconciliation')}")
        if len(rows) != 1:
            raise LoaderError(f"{warehouse.relation('cdp_order_reconciliation')} holds "
                              f"{len(rows)} rows, not one; {BUILD_HINT}")
        by_reason = {row["reason"]: int(row["orders"]) for row in warehouse.fetch(
            "select reason, count(*) as orders from "
            f"{warehouse.relation('cdp_order_quarantine')} group by reason")}
        dropped = warehouse.fetch(
            "select coalesce(sum(extension_attributes_dropped "
            "+ item_extension_attributes_dropped), 0) as dropped from "
            f"{warehouse.relation('cdp_orders')}")[0]["dropped"]
    current, shipped, deleted, excluded, quarantined = (int(v) for v in rows[0].values())
    ordered = {r: by_reason[r] for r in _REASONS_IN_PRECEDENCE if r in by_reason}
    return MartCounts(current, shipped, deleted, excluded, quarantined, ordered, int(dropped))
