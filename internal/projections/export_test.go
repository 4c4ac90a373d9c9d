package projections

// SetRebuildBatch sets the rebuild's page of events and the rows it keeps
// in memory, for tests; it returns the function that restores them.
func SetRebuildBatch(page, rows int) func() {
	p, r := rebuildPage, rebuildRows
	rebuildPage, rebuildRows = page, rows
	return func() { rebuildPage, rebuildRows = p, r }
}
