package intake

// GroupStats reports how many groups of first ratings were written, how many ratings they
// stored and the largest, for the tests to see that groups formed.
func GroupStats(s *Service) (groups, stored, largest int64) {
	return s.grouped.groups.Load(), s.grouped.stored.Load(), s.grouped.largest.Load()
}

// HoldGroups makes the next group wait until release is called; entered receives once a
// group waits. Ratings sent meanwhile queue for the group after it (GroupWaiting counts them).
func HoldGroups(s *Service) (entered <-chan struct{}, release func()) {
	gate, in := make(chan struct{}), make(chan struct{}, 1)
	s.groupGate = func() {
		select {
		case in <- struct{}{}:
		default:
		}
		<-gate
	}
	return in, func() { close(gate) }
}

// GroupWaiting is how many ratings wait for a group.
func GroupWaiting(s *Service) int {
	s.batches()
	return s.groups.Waiting()
}

// OneAtATime sends every rating of s the one-at-a-time way (no groups).
func OneAtATime(s *Service) { s.oneAtATime = true }
