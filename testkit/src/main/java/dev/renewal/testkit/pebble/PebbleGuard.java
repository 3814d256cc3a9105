package dev.renewal.testkit.pebble;

import dev.renewal.testkit.pebble.RoomLock.Room;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Keeps apart the requests that wedge Pebble 2.4.0 (Debian's) for good when they meet, so that the
 * tests, the demo and the bench can run at any concurrency. Read in its source at tag v2.4.0:
 *
 * <ul>
 *   <li><b>Authorizations against the store</b>: the {@code Authz} handler ({@code wfe/wfe.go},
 *       every POST to {@code /authZ/}) holds the authorization's write lock while it looks the
 *       account up under the store's read lock ({@code validPOSTAsGET}, {@code getAcctByKey});
 *       {@code GetOrderByID} (every order read and finalize), {@code GetOrdersByAccountID} and
 *       {@code FindValidAuthorization} (every newOrder: it read-locks <em>every</em> authorization
 *       in turn) hold the store's read lock while they take authorizations' read locks; and a store
 *       writer waiting ({@code AddOrder}, {@code AddAuthorization}, {@code AddChallenge} in
 *       newOrder, {@code AddAccount}, {@code UpdateAccountByID}, {@code ChangeAccountKey}, {@code
 *       RevokeCertificate}) makes Go's {@code RWMutex} refuse new readers. An authorization read, a
 *       newOrder or order read, and a writer in flight together wait on each other for ever, and
 *       every later request behind them. So POSTs to {@code /authZ/} share one room of a {@link
 *       RoomLock}, every request that reads orders or writes the store shares the other.
 *   <li><b>Two reads of one order</b>: the {@code Order} handler read-locks the order and then
 *       again in {@code orderForDisplay}; {@code GetOrderByID} write-locks the order (under the
 *       store's read lock) to set its status. A second request for the same order arriving between
 *       the two read locks waits for the first, which waits behind it. So requests naming one order
 *       ({@code /my-order/ID}, {@code /finalize-order/ID}) go one at a time.
 * </ul>
 *
 * What it cannot keep apart is inside Pebble: the certificate a finalize issues is stored by a
 * goroutine after the answer ({@code CompleteOrder}, which write-locks the order); a read of that
 * order whose two read locks straddle that moment (a window of microseconds) still wedges it.
 */
final class PebbleGuard implements FaultyAcmeProxy.Gate {
  private static final int STRIPES = 256;

  private final RoomLock rooms = new RoomLock();
  private final Semaphore[] orders = new Semaphore[STRIPES];
  private final long timeoutNanos;

  PebbleGuard(java.time.Duration timeout) {
    this.timeoutNanos = timeout.toNanos();
    for (int i = 0; i < STRIPES; i++) {
      orders[i] = new Semaphore(1);
    }
  }

  /** The room a request must be in, or empty when it meets neither wedge. */
  static Optional<Room> room(String method, String path) {
    if (!method.equals("POST")) {
      return Optional.empty();
    }
    if (path.startsWith("/authZ/")) {
      return Optional.of(Room.AUTHORIZATIONS);
    }
    if (path.equals("/order-plz")
        || path.startsWith("/my-order/")
        || path.startsWith("/finalize-order/")
        || path.startsWith("/list-orderz/")
        || path.equals("/sign-me-up")
        || path.startsWith("/my-account/")
        || path.equals("/rollover-account-key")
        || path.equals("/revoke-cert")) {
      return Optional.of(Room.STORE);
    }
    return Optional.empty();
  }

  /** The order a request names, whose requests go one at a time, or empty. */
  static Optional<String> order(String method, String path) {
    if (!method.equals("POST")) {
      return Optional.empty();
    }
    for (String prefix : new String[] {"/my-order/", "/finalize-order/"}) {
      if (path.startsWith(prefix)) {
        return Optional.of(path.substring(prefix.length()));
      }
    }
    return Optional.empty();
  }

  @Override
  public Pass enter(String method, String path) throws InterruptedException {
    Optional<Room> room = room(method, path);
    if (room.isEmpty()) {
      return () -> {};
    }
    long deadline = System.nanoTime() + timeoutNanos;
    if (!rooms.enter(room.get(), timeoutNanos, TimeUnit.NANOSECONDS)) {
      return null;
    }
    Optional<String> order = order(method, path);
    if (order.isEmpty()) {
      return rooms::leave;
    }
    Semaphore lock = orders[Math.floorMod(order.get().hashCode(), STRIPES)];
    boolean locked = false;
    try {
      locked = lock.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } finally {
      if (!locked) {
        rooms.leave();
      }
    }
    if (!locked) {
      return null;
    }
    return () -> {
      lock.release();
      rooms.leave();
    };
  }
}
