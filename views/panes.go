package views

import "github.com/a-h/templ"

// ThreadPaneSwapView is a thread opened in an inbox already on screen.
type ThreadPaneSwapView struct {
	Title  string // the page's new title
	Thread ThreadView
	WSURL  string     // the socket for the list and this thread
	Row    *ThreadRow // the thread's row as it now is (read, current), oob; nil: none
}

// paneLinks makes a list's row links open their thread in place: htmx
// fetches the thread's pane alone (the server sees HX-Target: thread-pane),
// swaps it and pushes its URL, and the list stays as it is, scrolled where
// it was. Without JavaScript they are plain links. The closing list keeps
// plain links: its socket follows a list of its own.
func paneLinks(on bool) templ.Attributes {
	if !on {
		return nil
	}
	return templ.Attributes{"hx-boost": "true"} // the row links say where (threadRowItem)
}
