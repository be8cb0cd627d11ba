// Package logging is the manager's --log-format flag: json (zap's JSON, for
// log pipelines; the default) or console, one line a person can read in a
// terminal:
//
//	21:40:56.123 INFO  subscription  acct-acme/www  site is ready  url=http://www--acme.sites.landlord.localhost
//
// time, level, the controller (or logger name), the object being reconciled
// (the reconciler's key/value: subscription, account, membership, domain, or
// controller-runtime's namespace/name), the message, then the other
// key/values. controller-runtime's per-reconcile bookkeeping (reconcileID,
// controllerGroup, controllerKind and its duplicate of the object) is left
// out. The zap flags (--zap-log-level, --zap-stacktrace-level, ...) keep
// working; --log-format=console replaces --zap-encoder's encoder.
package logging

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// Format is the value of --log-format.
type Format string

// Formats.
const (
	JSON    Format = "json"
	Console Format = "console"
)

// String implements flag.Value.
func (f *Format) String() string { return string(*f) }

// Set implements flag.Value.
func (f *Format) Set(s string) error {
	switch Format(s) {
	case JSON, Console:
		*f = Format(s)
		return nil
	}
	return fmt.Errorf("log format must be json or console, not %q", s)
}

// Apply sets the encoder of opts for format f. JSON leaves opts as the zap
// flags made them.
func (f Format) Apply(opts *zap.Options) {
	if f == Console {
		opts.Encoder = NewConsoleEncoder()
	}
}

// ObjectKeys are the keys whose value names the object a line is about, in
// order of preference: Landlord's reconcilers' keys first.
var ObjectKeys = []string{"subscription", "account", "membership", "domain", "customdomain", "object"}

// dropped are controller-runtime's per-reconcile keys, noise in a terminal.
var dropped = []string{"reconcileID", "controllerGroup", "controllerKind"}

// NewConsoleEncoder returns the console encoder.
func NewConsoleEncoder() zapcore.Encoder {
	return &consoleEncoder{MapObjectEncoder: zapcore.NewMapObjectEncoder()}
}

// consoleEncoder gathers fields in a map (context fields from With, then the
// entry's) and writes one line per entry.
type consoleEncoder struct {
	*zapcore.MapObjectEncoder
	order []string // keys in the order they were first added
}

var pool = buffer.NewPool()

func (e *consoleEncoder) Clone() zapcore.Encoder {
	c := &consoleEncoder{MapObjectEncoder: zapcore.NewMapObjectEncoder(), order: slices.Clone(e.order)}
	for k, v := range e.Fields {
		c.Fields[k] = v
	}
	return c
}

func (e *consoleEncoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	all := e.Clone().(*consoleEncoder)
	for _, f := range fields {
		f.AddTo(all.MapObjectEncoder)
	}
	// Keys in the order they were added: context first, then the entry's.
	order := all.order
	for _, f := range fields {
		if !slices.Contains(order, f.Key) {
			order = append(order, f.Key)
		}
	}
	for k := range all.Fields {
		if !slices.Contains(order, k) {
			order = append(order, k)
		}
	}
	vals := all.Fields
	used := map[string]bool{}
	for _, k := range dropped {
		used[k] = true
	}

	who := ent.LoggerName
	if c, ok := vals["controller"].(string); ok && c != "" {
		who, used["controller"] = c, true
		// controller-runtime also logs the object under its Kind.
		if kind, ok := vals["controllerKind"].(string); ok {
			used[kind] = true
		}
	}
	object := ""
	for _, k := range ObjectKeys {
		if v, ok := vals[k]; ok {
			object, used[k] = render(v), true
			break
		}
	}
	ns, _ := vals["namespace"].(string)
	name, _ := vals["name"].(string)
	if object == "" && name != "" {
		object = name
		if ns != "" {
			object = ns + "/" + name
		}
	}
	if object != "" && (object == name || object == ns+"/"+name) {
		used["namespace"], used["name"] = true, true
	}

	b := pool.Get()
	b.AppendString(ent.Time.Format("15:04:05.000"))
	b.AppendByte(' ')
	b.AppendString(fmt.Sprintf("%-5s", ent.Level.CapitalString()))
	if who != "" {
		b.AppendString("  ")
		b.AppendString(who)
	}
	if object != "" {
		b.AppendString("  ")
		b.AppendString(object)
	}
	b.AppendString("  ")
	b.AppendString(ent.Message)
	for _, k := range order {
		if used[k] {
			continue
		}
		v, ok := vals[k]
		if !ok {
			continue
		}
		b.AppendString("  ")
		b.AppendString(k)
		b.AppendByte('=')
		b.AppendString(quote(render(v)))
	}
	b.AppendByte('\n')
	if ent.Stack != "" {
		b.AppendString(ent.Stack)
		b.AppendByte('\n')
	}
	return b, nil
}

// With fields are added through the embedded map encoder; remember their order.
func (e *consoleEncoder) AddString(k, v string) { e.note(k); e.MapObjectEncoder.AddString(k, v) }
func (e *consoleEncoder) AddReflected(k string, v interface{}) error {
	e.note(k)
	return e.MapObjectEncoder.AddReflected(k, v)
}
func (e *consoleEncoder) AddBool(k string, v bool)     { e.note(k); e.MapObjectEncoder.AddBool(k, v) }
func (e *consoleEncoder) AddInt64(k string, v int64)   { e.note(k); e.MapObjectEncoder.AddInt64(k, v) }
func (e *consoleEncoder) AddUint64(k string, v uint64) { e.note(k); e.MapObjectEncoder.AddUint64(k, v) }
func (e *consoleEncoder) AddFloat64(k string, v float64) {
	e.note(k)
	e.MapObjectEncoder.AddFloat64(k, v)
}
func (e *consoleEncoder) AddDuration(k string, v time.Duration) {
	e.note(k)
	e.MapObjectEncoder.AddDuration(k, v)
}
func (e *consoleEncoder) AddObject(k string, v zapcore.ObjectMarshaler) error {
	e.note(k)
	return e.MapObjectEncoder.AddObject(k, v)
}

func (e *consoleEncoder) note(k string) {
	if !slices.Contains(e.order, k) {
		e.order = append(e.order, k)
	}
}

// render prints a value: strings as they are, object references
// ({name, namespace}) as namespace/name, durations and times readably,
// anything else as JSON.
func render(v interface{}) string {
	switch t := v.(type) {
	case string:
		return t
	case time.Duration:
		return t.String()
	case time.Time:
		return t.Format(time.RFC3339)
	case fmt.Stringer:
		return t.String()
	case error:
		return t.Error()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var str string
	if json.Unmarshal(b, &str) == nil { // a named string type
		return str
	}
	var list []string
	if json.Unmarshal(b, &list) == nil {
		return strings.Join(list, ",")
	}
	var ref struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	}
	if json.Unmarshal(b, &ref) == nil && ref.Name != "" {
		var generic map[string]interface{}
		if json.Unmarshal(b, &generic) == nil && len(generic) <= 2 {
			if ref.Namespace == "" {
				return ref.Name
			}
			return ref.Namespace + "/" + ref.Name
		}
	}
	return string(b)
}

// quote quotes values that would not read as one token (JSON stays as is).
func quote(s string) string {
	if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
		return s
	}
	if s == "" || strings.ContainsAny(s, " \t\n\"=") {
		return fmt.Sprintf("%q", s)
	}
	return s
}
