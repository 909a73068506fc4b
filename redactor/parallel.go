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
	src, dst, done, err := textInput(src, dst)
	if err != nil {
		return Stats{}, err
	}
	st, err := r.streamParallel(ctx, dst, src, f, hint, workers)
	if err != nil {
		return st, err
	}
	return st, done()
}

func (r *Redactor) streamParallel(ctx context.Context, dst io.Writer, src io.Reader, f, hint Format, workers int) (Stats, error) {
	if workers < 2 || (f != FormatAuto && f != FormatNDJSON) {
		return r.stream(ctx, dst, src, f, hint)
	}
	head := make([]byte, 0, parallelBlock)
	head, eof, err := fill(src, head, detectSize)
	if err != nil {
		return Stats{Bytes: int64(len(head))}, err
	}
	if f == FormatAuto {
		f = sniff(head, hint, eof)
	}
	if f != FormatNDJSON {
		return r.stream(ctx, dst, io.MultiReader(bytes.NewReader(head), src), f, hint)
	}
	return r.parallelNDJSON(ctx, dst, src, head, eof, workers)
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
}

// parallelNDJSON redacts NDJSON from read followed by the rest of src.
func (r *Redactor) parallelNDJSON(ctx context.Context, dst io.Writer, src io.Reader, read []byte, eof bool, workers int) (Stats, error) {
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
	finish := func() error {
		close(work)
		wg.Wait()
		close(order)
		return <-writeErr
	}

	pending := read
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
				if len(pending) > r.maxDoc {
					// A line longer than MaxDocument: the Writer
					// refuses it (ErrTooLarge) after the lines before.
					if err := finish(); err != nil {
						return total, err
					}
					s, err := r.Stream(ctx, dst, io.MultiReader(bytes.NewReader(pending), src), FormatNDJSON, FormatAuto)
					total.Add(s)
					return total, err
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
