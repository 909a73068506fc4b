package secrets

import (
	"os"
	"path/filepath"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
)

// watcher turns fsnotify events on the directories holding file-backed
// sources into a "something changed" signal.
type watcher struct {
	w       *fsnotify.Watcher
	changed chan struct{}
	done    chan struct{}
}

// watch starts watching the file-backed sources; nil when there are none or
// fsnotify is unavailable (then the Refresh interval alone re-reads them).
// Directories are watched rather than files, so that files replaced by a
// rename (editors, kubelet's ..data swap) are still seen.
func (m *Manager) watch() *watcher {
	dirs := map[string]bool{}
	for _, s := range m.srcs {
		for _, p := range s.watch {
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				dirs[p] = true
			}
			dirs[filepath.Dir(p)] = true
		}
	}
	if len(dirs) == 0 {
		return nil
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		m.logger.Warn("file watching unavailable; files are re-read every refresh interval", zap.Error(err))
		return nil
	}
	for d := range dirs {
		if err := fw.Add(d); err != nil {
			m.logger.Warn("cannot watch directory; its files are re-read every refresh interval", zap.String("dir", d), zap.Error(err))
		}
	}
	w := &watcher{w: fw, changed: make(chan struct{}, 1), done: make(chan struct{})}
	go w.loop(m.logger)
	return w
}

func (w *watcher) loop(logger *zap.Logger) {
	for {
		select {
		case <-w.done:
			return
		case ev, ok := <-w.w.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			select {
			case w.changed <- struct{}{}:
			default:
			}
		case err, ok := <-w.w.Errors:
			if !ok {
				return
			}
			logger.Warn("file watch error", zap.Error(err))
		}
	}
}

func (w *watcher) close() {
	close(w.done)
	w.w.Close()
}
