package main

import "github.com/spf13/cobra"

func calendarCmd() *cobra.Command {
	return &cobra.Command{Use: "calendar", Short: "working-day calendars"}
}
