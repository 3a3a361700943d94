package vedette

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// errShape is a `/series` answer the fast decoder does not expect; encoding/json reads it.
var errShape = errors.New("unexpected shape")

// decodeSeries reads a `/series` answer holding metric. A 30-day hourly query over 500
// monitors is 360,000 buckets, which encoding/json's reflection decodes several times slower
// than this scanner of the answer's fixed shape, which also fills the columns the frames use
// as they are; any other shape falls back to encoding/json.
func decodeSeries(body []byte, metric string) (*Series, error) {
	s := seriesScanner{b: body, metric: metric}
	if out, err := s.series(); err == nil {
		return out, nil
	}
	return decodeSeriesGeneric(body, metric)
}

// decodeSeriesGeneric reads any valid `/series` answer with encoding/json.
func decodeSeriesGeneric(body []byte, metric string) (*Series, error) {
	var generic struct {
		From, To time.Time
		Step     string
		Series   []struct {
			MonitorID string           `json:"monitor_id"`
			Buckets   []map[string]any `json:"buckets"`
		}
	}
	if err := json.Unmarshal(body, &generic); err != nil {
		return nil, err
	}
	out := &Series{From: generic.From, To: generic.To, Step: generic.Step, Series: make([]MonitorSeries, 0, len(generic.Series))}
	for _, g := range generic.Series {
		ms := MonitorSeries{MonitorID: g.MonitorID, Times: make([]time.Time, len(g.Buckets)), Values: make([]*float64, len(g.Buckets))}
		for i, b := range g.Buckets {
			text, _ := b["start"].(string)
			at, err := time.Parse(time.RFC3339, text)
			if err != nil {
				return nil, errors.New("a bucket of the answer has no valid start")
			}
			ms.Times[i] = at
			if v, ok := b[metric].(float64); ok {
				ms.Values[i] = &v
			}
		}
		out.Series = append(out.Series, ms)
	}
	return out, nil
}

type seriesScanner struct {
	b      []byte
	i      int
	metric string
	// values backs the numbers read, a block at a time, so that each needs no allocation.
	values []float64
}

func (s *seriesScanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\t' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *seriesScanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *seriesScanner) expect(c byte) error {
	if s.peek() != c {
		return errShape
	}
	s.i++
	return nil
}

// str reads a string without escapes (Vedette's ids, keys and times have none).
func (s *seriesScanner) str() (string, error) {
	if err := s.expect('"'); err != nil {
		return "", err
	}
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			return "", errShape
		case '"':
			out := string(s.b[start:s.i])
			s.i++
			return out, nil
		}
		s.i++
	}
	return "", errShape
}

// number reads a number or null.
func (s *seriesScanner) number() (*float64, error) {
	s.ws()
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return nil, nil
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		s.i++
	}
	v, err := strconv.ParseFloat(string(s.b[start:s.i]), 64)
	if err != nil {
		return nil, errShape
	}
	if len(s.values) == cap(s.values) {
		s.values = make([]float64, 0, 4096)
	}
	s.values = append(s.values, v)
	return &s.values[len(s.values)-1], nil
}

func (s *seriesScanner) time() (time.Time, error) {
	text, err := s.str()
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339, text)
}

// object calls field for each key of an object.
func (s *seriesScanner) object(field func(key string) error) error {
	return s.elements('{', '}', func() error {
		key, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		return field(key)
	})
}

// array calls item for each element of an array.
func (s *seriesScanner) array(item func() error) error {
	return s.elements('[', ']', item)
}

// elements calls item for each comma-separated element between open and end: the walk that
// objects and arrays share.
func (s *seriesScanner) elements(open, end byte, item func() error) error {
	if err := s.expect(open); err != nil {
		return err
	}
	if s.peek() == end {
		s.i++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case end:
			s.i++
			return nil
		default:
			return errShape
		}
	}
}

// answer scans the fixed shape of a `/series` or `/series/columns` answer: from, to, step,
// maintenance_excluded, and series (each monitor read by monitor); any other key is read by
// other, and nothing may follow the answer.
func (s *seriesScanner) answer(monitor func(*MonitorSeries) error, other func(key string) error) (*Series, error) {
	out := &Series{}
	err := s.object(func(key string) error {
		var err error
		switch key {
		case "from":
			out.From, err = s.time()
		case "to":
			out.To, err = s.time()
		case "step":
			out.Step, err = s.str()
		case "maintenance_excluded":
			err = s.boolean()
		case "series":
			out.Series = []MonitorSeries{}
			err = s.array(func() error {
				var ms MonitorSeries
				if err := monitor(&ms); err != nil {
					return err
				}
				out.Series = append(out.Series, ms)
				return nil
			})
		default:
			err = other(key)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.ws()
	if s.i != len(s.b) {
		return nil, errShape
	}
	return out, nil
}

// series scans the fixed shape of a `/series` answer.
func (s *seriesScanner) series() (*Series, error) {
	return s.answer(s.monitorSeries, func(string) error { return errShape })
}

func (s *seriesScanner) monitorSeries(ms *MonitorSeries) error {
	return s.object(func(key string) error {
		var err error
		switch key {
		case "monitor_id":
			ms.MonitorID, err = s.str()
		case "buckets":
			ms.Times, ms.Values = []time.Time{}, []*float64{}
			err = s.array(func() error { return s.bucket(ms) })
		default:
			err = errShape
		}
		return err
	})
}

// bucket appends one bucket's start and value to ms.
func (s *seriesScanner) bucket(ms *MonitorSeries) error {
	var start time.Time
	var value *float64
	seen := false
	err := s.object(func(key string) error {
		var err error
		switch key {
		case "start":
			start, err = s.time()
			seen = true
		case s.metric:
			value, err = s.number()
		default:
			err = errShape
		}
		return err
	})
	if err != nil || !seen {
		return errShape
	}
	ms.Times = append(ms.Times, start)
	ms.Values = append(ms.Values, value)
	return nil
}

// decodeColumns reads a `/series/columns` answer holding metric, whose buckets last step:
// bucket i of every monitor starts at from + i × step, so all monitors share one slice of
// starts. The fixed shape is scanned as decodeSeries does, and anything else read with
// encoding/json.
func decodeColumns(body []byte, metric string, step time.Duration) (*Series, error) {
	s := seriesScanner{b: body, metric: metric}
	out, buckets, err := s.columns()
	if err != nil {
		out, buckets, err = decodeColumnsGeneric(body, metric)
		if err != nil {
			return nil, err
		}
	}
	times := make([]time.Time, buckets)
	for i := range times {
		times[i] = out.From.Add(time.Duration(i) * step)
	}
	for i := range out.Series {
		if len(out.Series[i].Values) != buckets {
			return nil, fmt.Errorf("monitor %s has %d values of %s for %d buckets", out.Series[i].MonitorID, len(out.Series[i].Values), metric, buckets)
		}
		out.Series[i].Times = times
	}
	return out, nil
}

// decodeColumnsGeneric reads any valid `/series/columns` answer with encoding/json.
func decodeColumnsGeneric(body []byte, metric string) (*Series, int, error) {
	var generic struct {
		From, To time.Time
		Step     string
		Buckets  int
		Series   []struct {
			MonitorID string                `json:"monitor_id"`
			Values    map[string][]*float64 `json:"values"`
		}
	}
	if err := json.Unmarshal(body, &generic); err != nil {
		return nil, 0, err
	}
	out := &Series{From: generic.From, To: generic.To, Step: generic.Step, Series: make([]MonitorSeries, 0, len(generic.Series))}
	for _, g := range generic.Series {
		values, ok := g.Values[metric]
		if !ok {
			return nil, 0, fmt.Errorf("monitor %s has no values of %s", g.MonitorID, metric)
		}
		out.Series = append(out.Series, MonitorSeries{MonitorID: g.MonitorID, Values: values})
	}
	return out, generic.Buckets, nil
}

// columns scans the fixed shape of a `/series/columns` answer with only the metric asked.
func (s *seriesScanner) columns() (*Series, int, error) {
	buckets := -1
	out, err := s.answer(
		func(ms *MonitorSeries) error { return s.columnSeries(ms, max(buckets, 0)) },
		func(key string) error {
			if key != "buckets" {
				return errShape
			}
			n, err := s.number()
			if err != nil || n == nil || *n < 0 || *n != float64(int(*n)) {
				return errShape
			}
			buckets = int(*n)
			return nil
		})
	if err != nil || buckets < 0 {
		return nil, 0, errShape
	}
	return out, buckets, nil
}

// boolean reads true or false.
func (s *seriesScanner) boolean() error {
	s.ws()
	switch {
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		s.i += 4
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		s.i += 5
	default:
		return errShape
	}
	return nil
}

// columnSeries reads one monitor's id and its one array of values (about buckets long).
func (s *seriesScanner) columnSeries(ms *MonitorSeries, buckets int) error {
	seen := false
	err := s.object(func(key string) error {
		switch key {
		case "monitor_id":
			var err error
			ms.MonitorID, err = s.str()
			return err
		case "values":
			return s.object(func(name string) error {
				if name != s.metric || seen {
					return errShape
				}
				seen = true
				ms.Values = make([]*float64, 0, buckets)
				return s.array(func() error {
					v, err := s.number()
					ms.Values = append(ms.Values, v)
					return err
				})
			})
		}
		return errShape
	})
	if err != nil || !seen {
		return errShape
	}
	return nil
}
