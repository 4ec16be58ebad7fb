package web

import "time"

// now is the clock handlers read (one place to fake it if ever needed).
var now = time.Now
