package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"redress/calendar/calendardb"
	"redress/config"
)

func calendarCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "calendar", Short: "working-day calendars"}
	var dbf dbFlags
	imp := &cobra.Command{
		Use:   "import [--data DIR | --database-url URL] FILE…",
		Short: "load national working-day calendars in the holiday-cn JSON format",
		Long: "Each file holds one year ({\"year\":…, \"days\":[{\"date\",\"name\",\"isOffDay\"}]}). " +
			"Content equal to the year in force changes nothing; different content becomes the year's " +
			"next version, and open work orders recompute their deadlines (the worker notices the change).",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load()
			if err != nil {
				return err
			}
			dbf.resolve(&cfg)
			db, err := openDB(cmd.Context(), cfg, false)
			if err != nil {
				return err
			}
			defer db.Close() //nolint:errcheck // the command ends here and every write is committed; closing the pool loses nothing if it fails
			if err := db.Ready(cmd.Context()); err != nil {
				return err
			}
			for _, path := range args {
				f, err := os.Open(path)
				if err != nil {
					return err
				}
				res, err := calendardb.ImportHolidayCN(cmd.Context(), db, f, path)
				if cerr := f.Close(); err == nil && cerr != nil {
					err = fmt.Errorf("close %s: %w", path, cerr)
				}
				if err != nil {
					return err
				}
				state := "unchanged"
				if res.Changed {
					state = "imported"
				}
				fmt.Printf("%d: version %s, %d exceptions, %s\n", res.Year, res.Version, res.Days, state)
			}
			return nil
		},
	}
	dbf.add(imp)
	cmd.AddCommand(imp)
	return cmd
}
