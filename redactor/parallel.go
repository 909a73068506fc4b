package redactor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
)

// parallelBlock is the size of the batches of whole NDJSON lines that
// StreamParallel hands to its workers.
const parallelBlock = 1 << 20

// longLine is how long an NDJSON line grows, its end not yet read, before
// StreamParallel stops collecting it for a worker and redacts it in order
// through a Writer instead (see parallelNDJSON).
const longLine = 4 * parallelBlock

// StreamParallel is Stream with up to workers goroutines (0 means
// GOMAXPROCS) for NDJSON, whose lines are independent: batches of whole
// lines are redacted concurrently and written in input order, with the
// same output as Stream. Other formats are streamed by one goroutine as
// Stream does; a line longer than MaxDocument ends the stream with
// ErrTooLarge, as it does Stream's. Memory stays
// bounded at a few batches per worker.
func (r *Redactor) StreamParallel(ctx context.Context, dst io.Writer, src io.Reader, f, hint Format, workers int) (Stats, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	src, dst, done, size, err := textInput(src, dst)
	if err != nil {
		return Stats{}, err
	}
	st, err := r.streamParallel(ctx, dst, src, f, hint, workers, size)
	if err != nil {
		return st, err
	}
	return st, done()
}

func (r *Redactor) streamParallel(ctx context.Context, dst io.Writer, src io.Reader, f, hint Format, workers int, size int64) (Stats, error) {
	if workers < 2 || (f != FormatAuto && f != FormatNDJSON) {
		return r.stream(ctx, dst, src, f, hint, size)
	}
	head := make([]byte, 0, parallelBlock)
	head, eof, err := fill(src, head, detectSize)
	if err != nil {
		return Stats{Bytes: int64(len(head))}, err
	}
	if f == FormatAuto && !eof {
		if open, _ := firstLineOpen(head, r.maxDoc, 0); open {
			// A first line longer than the detection window: one Writer
			// reads it to its end, decides, and holds it once.
			return r.stream(ctx, dst, io.MultiReader(bytes.NewReader(head), src), f, hint, size)
		}
	}
	if f == FormatAuto {
		f = sniff(head, hint, eof)
	}
	if f != FormatNDJSON {
		return r.stream(ctx, dst, io.MultiReader(bytes.NewReader(head), src), f, hint, size)
	}
	return r.parallelNDJSON(ctx, dst, src, head, eof, workers, size)
}

// fill reads from src into buf until it holds at least n bytes or src ends.
func fill(src io.Reader, buf []byte, n int) ([]byte, bool, error) {
	for len(buf) < n {
		if cap(buf)-len(buf) < 32<<10 {
			buf = slices.Grow(buf, max(n-len(buf), 64<<10))
		}
		k, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err == io.EOF {
			return buf, true, nil
		}
		if err != nil {
			return buf, true, fmt.Errorf("read: %w", err)
		}
	}
	return buf, false, nil
}

type ndjsonJob struct {
	in, out []byte
	stats   Stats
	done    chan struct{}
	// drained, on a job with no input, is closed once every job before
	// it has been written.
	drained chan struct{}
}

// parallelNDJSON redacts NDJSON from read followed by the rest of src,
// which holds size bytes in all (0: unknown).
//
// A line that grows past longLine before its end is read is not collected
// for a worker: that would hold it three times (collected, copied into the
// job, and redacted whole into the job's output). Once the batches before
// it are written, a Writer redacts it in place and writes it out in
// pieces, and the batches resume after it.
func (r *Redactor) parallelNDJSON(ctx context.Context, dst io.Writer, src io.Reader, read []byte, eof bool, workers int, size int64) (Stats, error) {
	work := make(chan *ndjsonJob)
	order := make(chan *ndjsonJob, 2*workers)
	free := make(chan *ndjsonJob, 2*workers+1)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range work {
				j.out, j.stats = r.Append(j.out[:0], j.in, FormatNDJSON)
				close(j.done)
			}
		})
	}
	var total Stats
	writeErr := make(chan error, 1)
	var failed sync.Once
	stop := make(chan struct{})
	go func() {
		var err error
		for j := range order {
			<-j.done
			if j.drained != nil {
				close(j.drained)
				continue
			}
			if err == nil {
				total.Add(j.stats)
				if _, werr := dst.Write(j.out); werr != nil {
					err = fmt.Errorf("write: %w", werr)
					failed.Do(func() { close(stop) })
				}
			}
			select {
			case free <- j:
			default:
			}
		}
		writeErr <- err
	}()
	// seq counts the long lines redacted in order by this goroutine.
	var seq Stats
	finish := func() error {
		close(work)
		wg.Wait()
		close(order)
		err := <-writeErr
		total.Add(seq)
		return err
	}
	// drain waits until every job so far has been written; false when
	// writing failed.
	drain := func() bool {
		j := &ndjsonJob{done: make(chan struct{}), drained: make(chan struct{})}
		close(j.done)
		order <- j
		select {
		case <-j.drained:
			return true
		case <-stop:
			return false
		}
	}

	pending := read
	consumed := int64(0) // input bytes before pending[0]
	target := parallelBlock
	var readErr error
	for {
		if err := ctx.Err(); err != nil {
			ferr := finish()
			return total, errors.Join(err, ferr)
		}
		select {
		case <-stop:
			err := finish()
			return total, err
		default:
		}
		if !eof && len(pending) < target {
			var err error
			if pending, eof, err = fill(src, pending, target); err != nil {
				readErr = err
			}
		}
		cut := len(pending)
		if !eof {
			cut = bytes.LastIndexByte(pending, '\n') + 1
			if cut == 0 {
				if len(pending) >= longLine || len(pending) > r.maxDoc {
					// A line longer than MaxDocument is refused
					// there (ErrTooLarge) after the lines before.
					if !drain() {
						err := finish()
						return total, err
					}
					s, n, after, atEOF, err := r.longLine(ctx, dst, src, pending, consumed, size)
					seq.Add(s)
					if err != nil {
						ferr := finish()
						return total, errors.Join(err, ferr)
					}
					consumed += n
					pending, eof, target = after, atEOF, parallelBlock
					continue
				}
				target = len(pending) * 2
				continue
			}
		}
		if cut > 0 {
			var j *ndjsonJob
			select {
			case j = <-free:
			default:
				j = &ndjsonJob{}
			}
			j.in = append(j.in[:0], pending[:cut]...)
			j.done = make(chan struct{})
			order <- j
			work <- j
			pending = pending[:copy(pending, pending[cut:])]
			consumed += int64(cut)
			target = parallelBlock
		}
		if eof {
			err := finish()
			if readErr != nil {
				return total, readErr
			}
			return total, err
		}
	}
}

// longLine redacts, through a Writer into dst, one NDJSON line that starts
// with head (which holds no line break; the Writer takes it over) at input
// offset base, and whose rest is read from src; size is the input's size
// in all (0: unknown). It returns the stats, the length of the line with
// its line break, what was read after the line, and whether src is at its
// end. A line longer than MaxDocument is refused with ErrTooLarge, as
// Stream refuses it, with its offset in the input.
func (r *Redactor) longLine(ctx context.Context, dst io.Writer, src io.Reader, head []byte, base, size int64) (Stats, int64, []byte, bool, error) {
	w := r.NewWriter(dst, FormatNDJSON)
	w.SetSizeHint(size)
	w.base = base
	fail := func(err error) (Stats, int64, []byte, bool, error) {
		w.release()
		return w.stats, 0, nil, false, err
	}
	// The Writer takes head as its buffer rather than a copy of it.
	w.buf = head
	w.stats.Bytes = int64(len(head))
	if err := w.process(false); err != nil {
		return fail(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		n, err := src.Read(buf)
		p := buf[:n]
		nl := bytes.IndexByte(p, '\n')
		if nl >= 0 {
			p = p[:nl+1]
		}
		if _, werr := w.Write(p); werr != nil {
			return fail(werr)
		}
		if nl >= 0 || err == io.EOF {
			if cerr := w.Close(); cerr != nil {
				return w.stats, 0, nil, false, cerr
			}
			var after []byte
			if nl >= 0 {
				after = append(make([]byte, 0, parallelBlock), buf[nl+1:n]...)
			}
			return w.stats, w.stats.Bytes, after, err == io.EOF, nil
		}
		if err != nil {
			return fail(fmt.Errorf("read: %w", err))
		}
	}
}
