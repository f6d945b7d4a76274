"""Everything made from the stored rates, read-only: the header line and ticker files, the day's
table, conversions, exports, charts, the page and the hints that say why an answer is missing.
Outputs read the store through `store.reader` and import nothing that writes it; the files they
make are written through `ticker.files`."""
