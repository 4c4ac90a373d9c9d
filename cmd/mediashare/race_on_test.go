//go:build race

package main

// The race detector slows everything down several times: deadlines that
// are requirements (a change within 2 s) are stretched under it.
const slowdown = 5
