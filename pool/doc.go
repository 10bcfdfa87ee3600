// Package pool is the worker pool of the WebSocket stack (the
// IOThreadPool): a fixed set of goroutines that run the tasks a server
// hands them, so that a burst of messages does not start a goroutine per
// message.
//
// [Workers] gives each worker a queue of its own; idle workers steal from
// busy ones. [Workers.PostKeyed] runs the tasks of one key (a session's
// messages, say) in order, one at a time, on whichever worker is free.
// Workers can be pinned to CPUs ([WorkersConfig.Affinity]), recover and
// report panics, drain on [Workers.Shutdown], and count what they did in
// [WorkerStats].
//
// A Workers pool is something a user builds and hands to the server (the
// root's Server.Workers) or runs tasks of their own on; the byte buffers
// the connections borrow, and the thread pinning the event loops share with
// the workers, are internal to the module.
package pool
