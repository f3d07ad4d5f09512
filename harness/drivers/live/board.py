"""What the harness knows that any operator may need, on whichever worker it runs.

- Each report's ground truth (violating, ambiguous): only the harness knows it, and an
  operator's persona judges a report by it (erring at its persona's rate), exactly as in
  the simulator.
- Who has new work. In the simulator the event loop hands a new report to the operator
  idle longest and tells a second approver at once; here idle operators wait on the board,
  and the reporter's, requester's and attacker's news wakes the right one. Without news an
  idle operator still looks at the queue every `live.idle_poll`.

With workers, every piece of news is also sent to the master, which passes it to the other
workers (Locust custom messages), so a report filed on one worker can be claimed on
another.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from gevent.event import Event

from ...personas import Item

News = list  # ["filed", report id, item], ["escalated", report id, item],
# ["requeued", queue], ["approval", operator id]: lists, as they travel between processes


class Waiter:
    __slots__ = ("event", "operator", "senior")

    def __init__(self, operator: str, senior: bool) -> None:
        self.operator = operator
        self.senior = senior
        self.event = Event()


class Board:
    def __init__(self, share: Callable[[News], None] | None = None) -> None:
        self.share = share  # sends news to the other workers (through the master)
        self.items: dict[int, Item] = {}
        self.arrived: dict[int, Event] = {}
        self.idle: deque[Waiter] = deque()
        self.approvals: set[str] = set()  # operators with an approval waiting for them

    def reset(self) -> None:
        """A new shift: nothing known, nobody waiting."""
        self.items.clear()
        self.arrived.clear()
        self.idle.clear()
        self.approvals.clear()

    def publish(self, news: News) -> None:
        self.take(news)
        if self.share is not None:
            self.share(news)

    def take(self, news: News) -> None:
        """Act on news from this process or another."""
        kind = news[0]
        if kind == "filed" or kind == "escalated":
            report_id, item = news[1], Item(*news[2])
            self.items.setdefault(report_id, item)
            arrived = self.arrived.pop(report_id, None)
            if arrived is not None:
                arrived.set()
            self._wake(senior=kind == "escalated")
        elif kind == "requeued":
            self._wake(senior=news[1] == "senior")
        elif kind == "approval":
            self.approvals.add(news[1])
            for waiter in self.idle:
                if waiter.operator == news[1]:
                    self._release(waiter)
                    break

    def item(self, report_id: int, timeout: float) -> Item | None:
        """A report's ground truth, waiting up to `timeout` wall seconds for the news of
        its filing (it may be on its way from another worker)."""
        item = self.items.get(report_id)
        if item is None:
            self.arrived.setdefault(report_id, Event()).wait(timeout)
            item = self.items.get(report_id)
        return item

    def wait(self, operator: str, senior: bool, timeout: float) -> bool:
        """Wait idle until news of work or `timeout` wall seconds; True when woken."""
        waiter = Waiter(operator, senior)
        self.idle.append(waiter)
        woken = waiter.event.wait(timeout)
        if not woken and waiter in self.idle:
            self.idle.remove(waiter)
        return bool(woken)

    def approval_waiting(self, operator: str) -> bool:
        """Whether the operator was told of a pending approval (and forget it)."""
        if operator in self.approvals:
            self.approvals.discard(operator)
            return True
        return False

    def _wake(self, senior: bool) -> None:
        """Hand the news to the operator idle longest who can take the work."""
        for waiter in self.idle:
            if waiter.senior or not senior:
                self._release(waiter)
                return

    def _release(self, waiter: Waiter) -> None:
        self.idle.remove(waiter)
        waiter.event.set()
