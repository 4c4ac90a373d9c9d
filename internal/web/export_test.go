package web

// Receiving counts a body of n bytes on f until the returned func is called.
func Receiving(f *Foreground, n int64) func() { return f.receiving(n) }
