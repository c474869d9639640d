const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/**
 * Python's `time.ctime()` text in local time, e.g. `Mon Nov  3 09:04:05 2026` (day of month padded with a
 * space): the upstream server parses heartbeat times with `strptime('%a %b %d %H:%M:%S %Y')`.
 */
export function ctime(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0')
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`
}
