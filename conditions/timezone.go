package conditions

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/overloads"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// CEL's standard library loads a time zone from the system's database at
// every call of getHours("Europe/Paris") and its siblings: tens of
// microseconds and a file read each time. The overloads that take a time
// zone are redefined here, with the same signatures and results, over a
// cache of the locations already loaded.

// timestampAccessors are the timestamp methods that take a time zone.
var timestampAccessors = []struct {
	function, overload string
	get                func(time.Time) int
}{
	{overloads.TimeGetFullYear, overloads.TimestampToYearWithTz, time.Time.Year},
	{overloads.TimeGetMonth, overloads.TimestampToMonthWithTz, func(t time.Time) int { return int(t.Month()) - 1 }},
	{overloads.TimeGetDayOfYear, overloads.TimestampToDayOfYearWithTz, func(t time.Time) int { return t.YearDay() - 1 }},
	{overloads.TimeGetDayOfMonth, overloads.TimestampToDayOfMonthZeroBasedWithTz, func(t time.Time) int { return t.Day() - 1 }},
	{overloads.TimeGetDate, overloads.TimestampToDayOfMonthOneBasedWithTz, time.Time.Day},
	{overloads.TimeGetDayOfWeek, overloads.TimestampToDayOfWeekWithTz, func(t time.Time) int { return int(t.Weekday()) }},
	{overloads.TimeGetHours, overloads.TimestampToHoursWithTz, time.Time.Hour},
	{overloads.TimeGetMinutes, overloads.TimestampToMinutesWithTz, time.Time.Minute},
	{overloads.TimeGetSeconds, overloads.TimestampToSecondsWithTz, time.Time.Second},
	{overloads.TimeGetMilliseconds, overloads.TimestampToMillisecondsWithTz, func(t time.Time) int { return t.Nanosecond() / 1e6 }},
}

func timeZoneOverrides() []cel.EnvOption {
	opts := make([]cel.EnvOption, 0, len(timestampAccessors))
	for _, acc := range timestampAccessors {
		get := acc.get
		opts = append(opts, cel.Function(acc.function,
			cel.MemberOverload(acc.overload, []*cel.Type{cel.TimestampType, cel.StringType}, cel.IntType,
				cel.BinaryBinding(func(ts, tz ref.Val) ref.Val {
					t, ok1 := ts.(types.Timestamp)
					name, ok2 := tz.(types.String)
					if !ok1 || !ok2 {
						return types.NewErr("%s: want (timestamp, string)", acc.function)
					}
					loc, err := timeZone(string(name))
					if err != nil {
						return types.NewErrFromString(err.Error())
					}
					return types.Int(get(t.In(loc)))
				}))))
	}
	return opts
}

// locations caches the time zones by name: an immutable map behind an
// atomic pointer, copied on the rare write. It holds only valid names, so
// it stays as small as the time zone database and the set of offsets.
var (
	locations   atomic.Pointer[map[string]*time.Location]
	locationsMu sync.Mutex
)

// timeZone returns the location of an IANA time zone name ("Europe/Paris")
// or of a fixed offset from UTC ("+01:00", "-05:30"), as CEL defines them.
func timeZone(name string) (*time.Location, error) {
	if m := locations.Load(); m != nil {
		if loc, ok := (*m)[name]; ok {
			return loc, nil
		}
	}
	var loc *time.Location
	if strings.Contains(name, ":") {
		var err error
		if loc, err = fixedZone(name); err != nil {
			return nil, err
		}
	} else {
		var err error
		if loc, err = time.LoadLocation(name); err != nil {
			return nil, fmt.Errorf("unknown time zone %q (an IANA name such as Europe/Paris, or an offset such as +01:00; a program without the system's time zone database needs import _ \"time/tzdata\")", name)
		}
	}
	locationsMu.Lock()
	defer locationsMu.Unlock()
	next := map[string]*time.Location{name: loc}
	if m := locations.Load(); m != nil {
		for k, v := range *m {
			next[k] = v
		}
	}
	locations.Store(&next)
	return loc, nil
}

// fixedZone parses an offset from UTC, [+-]HH:MM, as CEL's standard library
// does.
func fixedZone(s string) (*time.Location, error) {
	i := strings.Index(s, ":")
	hr, err1 := strconv.Atoi(s[:i])
	min, err2 := strconv.Atoi(s[i+1:])
	if err1 != nil || err2 != nil || hr < -23 || hr > 23 || min < 0 || min > 59 {
		return nil, fmt.Errorf("invalid time zone offset %q: want [+-]HH:MM, hours in [-23, 23], minutes in [0, 59]", s)
	}
	offset := hr*60 + min
	if strings.HasPrefix(s, "-") {
		offset = hr*60 - min
	}
	return time.FixedZone("", offset*60), nil
}
