package calendar

// Shipped returns the national calendar of the shipped data alone, without a database, each
// year at revision 1 as calendardb.EnsureShipped stores it: real working-day arithmetic for workflow
// tests and tools that have no database at hand.
func Shipped() (*Calendar, error) {
	years, err := shipped()
	if err != nil {
		return nil, err
	}
	for i := range years {
		years[i].revision = 1
	}
	return build("", years, nil, nil), nil
}
