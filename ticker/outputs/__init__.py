"""Everything made from the stored rates, read-only: the header line and ticker files, conversions,
exports, charts and the page. Outputs read the store through `store.reader`; none writes rates."""
