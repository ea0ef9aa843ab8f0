// Package systemd speaks the sd_notify protocol: a few datagrams on the
// socket systemd names in $NOTIFY_SOCKET, with no library needed. The
// installation reports READY=1 once it draws and WATCHDOG=1 while it keeps
// drawing, so a hung render loop is restarted by systemd.
package systemd

import (
	"net"
	"os"
	"strconv"
	"time"
)

// Notify sends state ("READY=1", "WATCHDOG=1", "STATUS=…") to systemd. It
// does nothing, and returns false, when not started by systemd with a
// notify socket.
func Notify(state string) (bool, error) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return false, nil
	}
	if path[0] == '@' { // abstract socket namespace
		path = "\x00" + path[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, err
	}
	return true, nil
}

// WatchdogInterval is how often systemd expects WATCHDOG=1 (WatchdogSec in
// the unit), or 0 when no watchdog is set for this process.
func WatchdogInterval() time.Duration {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	return time.Duration(usec) * time.Microsecond
}
