module github.com/flowmask/flowmask/bench

go 1.26.0

require github.com/flowmask/flowmask v0.0.0

replace github.com/flowmask/flowmask => ../
