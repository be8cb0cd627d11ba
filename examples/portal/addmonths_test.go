package portal

import (
	"testing"
	"time"
)

func TestAddMonths(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 12, 0, 0, 0, time.UTC) }
	cases := []struct {
		from   time.Time
		months int
		want   time.Time
	}{
		{d(2026, time.March, 15), 1, d(2026, time.April, 15)},
		{d(2026, time.January, 31), 1, d(2026, time.February, 28)},
		{d(2028, time.January, 31), 1, d(2028, time.February, 29)}, // leap year
		{d(2028, time.February, 29), 12, d(2029, time.February, 28)},
		{d(2026, time.December, 31), 1, d(2027, time.January, 31)},
		{d(2026, time.August, 31), 1, d(2026, time.September, 30)},
		{d(2026, time.May, 31), 12, d(2027, time.May, 31)},
	}
	for _, tc := range cases {
		if got := AddMonths(tc.from, tc.months); !got.Equal(tc.want) {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", tc.from.Format(time.DateOnly), tc.months, got.Format(time.DateOnly), tc.want.Format(time.DateOnly))
		}
	}
}
