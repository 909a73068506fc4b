package httpbody

import (
	"sync/atomic"
	"time"
)

// Defaults for the process-wide bounds.
const (
	// DefaultMaxBodies is how many bodies may be decoded and scanned at once.
	DefaultMaxBodies = 256
	// DefaultMaxInFlight is how many decoded bytes all bodies together may
	// hold in memory.
	DefaultMaxInFlight = 512 << 20
)

// Budget bounds what all bodies of a process hold together: how many are
// being decoded at once, and how many decoded bytes they keep in memory. A
// nil *Budget bounds nothing. It is safe for concurrent use.
type Budget struct {
	slots    chan struct{}
	max      int64
	inFlight atomic.Int64
}

// NewBudget returns a budget for maxBodies concurrent bodies holding at most
// maxBytes decoded bytes together; zero or less means the default.
func NewBudget(maxBodies int, maxBytes int64) *Budget {
	if maxBodies <= 0 {
		maxBodies = DefaultMaxBodies
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxInFlight
	}
	return &Budget{slots: make(chan struct{}, maxBodies), max: maxBytes}
}

// InFlight is the decoded bytes held now (for metrics and tests).
func (b *Budget) InFlight() int64 {
	if b == nil {
		return 0
	}
	return b.inFlight.Load()
}

// acquire takes a body slot without waiting: a full budget is ErrBusy.
func (b *Budget) acquire() (*lease, error) {
	if b == nil {
		return nil, nil
	}
	select {
	case b.slots <- struct{}{}:
		return &lease{b: b}, nil
	default:
		return nil, ErrBusy
	}
}

// lease is one body's share of a Budget.
type lease struct {
	b *Budget
	n int64
}

// charge accounts n more held bytes.
func (l *lease) charge(n int64) error {
	if l == nil || n <= 0 {
		return nil
	}
	l.n += n
	if l.b.inFlight.Add(n) > l.b.max {
		return ErrBudget
	}
	return nil
}

// release gives the slot and the bytes back (once).
func (l *lease) release() {
	if l == nil || l.b == nil {
		return
	}
	l.b.inFlight.Add(-l.n)
	<-l.b.slots
	l.b = nil
}

// Limits bound one body.
type Limits struct {
	// MaxDecoded caps the decoded size (0: no cap).
	MaxDecoded int64
	// Hold is how much of the decoded body the caller keeps in memory at
	// most; that much (or the whole body, if smaller) is charged to the
	// Budget while the body is open. 0 charges the whole decoded body.
	Hold int64
	// Weight is how many bytes of memory each held decoded byte costs
	// (0 or 1: one). A caller that keeps more than the text (a buffer that
	// grows by doubling, a redacted copy, a re-encoded copy) charges what
	// it really allocates, so the Budget bounds memory, not text.
	Weight int64
	// Budget is the process-wide bound (nil: none).
	Budget *Budget
	// Deadline ends the body's reading (zero: none).
	Deadline time.Time
}
