package store

// BatchQueued is how many calls wait in b's queue (for tests that must see callers queued up
// behind a held run instead of sleeping and hoping they are).
func BatchQueued[In, Out any](b *Batch[In, Out]) int { return len(b.jobs) }
