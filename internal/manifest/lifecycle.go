package manifest

import (
	"os"
	"sort"
	"time"
)

// Ended lists, as warnings in the errors' file:line: field: form, the
// active productions whose endDate is before today: their environments
// should be sanitised and closed (ISE 6.2, 10.9), not left running. One
// that is closing or closed is already on its way. A warning never stops
// synthesis.
func (e *Estate) Ended(today time.Time) []Error {
	day := today.UTC().Truncate(24 * time.Hour)
	var out []Error
	for _, p := range e.Productions {
		if p.Closing() || p.EndDate.IsZero() || !p.EndDate.Before(day) {
			continue
		}
		out = append(out, Error{
			File:    p.Source.Name,
			Line:    p.Source.Line("endDate"),
			Field:   "endDate",
			Message: "warning: " + p.EndDate.String() + " has passed: sanitise and close the production's environment (ISE 6.2, 10.9), or move endDate",
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out
}

// EnvToday (YYYY-MM-DD) pins the date end dates are compared with, so that
// output can be reproduced; default the clock's.
const EnvToday = "RENDERENV_TODAY"

// Today is the date Ended compares end dates with.
func Today() time.Time {
	if v := os.Getenv(EnvToday); v != "" {
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			return t
		}
	}
	return time.Now()
}
