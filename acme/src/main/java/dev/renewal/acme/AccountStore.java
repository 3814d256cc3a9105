package dev.renewal.acme;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.net.URI;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.Optional;
import java.util.Set;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.util.KeyPairUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ACME account per CA profile. Its key (EC P-384) is generated once and kept in {@code
 * <keyDir>/<profile>/account.key} (owner-only), its URL in {@code account.url}; both are reused, so
 * an EAB key (often single-use at real CAs) is used once. Every service of the pipeline logs in
 * with it: the key folder is shared (one machine) or mounted (many), never sent on a topic.
 *
 * <p>{@link #rollover} changes the key (RFC 8555 section 7.3.5): the new key is written to {@code
 * account.key.next} (owner-only, synced), the CA is asked to change it, then it is moved over
 * {@code account.key} (atomic). Every login notices a key file that changed and reloads it, so
 * running services use the new key from their next CA call. A {@code account.key.next} left by a
 * crash is settled by the next login of any process: the CA is asked which key it knows ({@code
 * newAccount} with {@code onlyReturnExisting}, signed by the new key), and the switch is finished
 * or the new key discarded.
 */
public final class AccountStore {
  static {
    AcmeSessions.registerBouncyCastle();
  }

  private static final Logger LOGGER = LoggerFactory.getLogger(AccountStore.class);
  private static final Set<PosixFilePermission> OWNER_ONLY_FILE =
      PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> OWNER_ONLY_DIR =
      PosixFilePermissions.fromString("rwx------");

  private final Path keyDir;

  /** Accounts known to exist, by profile: read once (every CA call logs in). */
  private final java.util.Map<String, Known> known = new java.util.concurrent.ConcurrentHashMap<>();

  /** An account, its key, and the key file as it was when read ({@code version}). */
  private record Known(URL url, KeyPair key, Object version) {}

  public AccountStore(Path keyDir) {
    this.keyDir = keyDir;
  }

  /** The account key file of {@code profile}. */
  public Path keyFile(CaProfile profile) {
    return keyDir.resolve(profile.name()).resolve("account.key");
  }

  /** The new key of a rollover under way (or interrupted) of {@code profile}. */
  private Path nextKeyFile(CaProfile profile) {
    return keyDir.resolve(profile.name()).resolve("account.key.next");
  }

  private Path urlFile(CaProfile profile) {
    return keyDir.resolve(profile.name()).resolve("account.url");
  }

  /**
   * A login to {@code profile}'s account on {@code session}, creating the key and the account on
   * first use. Synchronized: one JVM creates an account once.
   *
   * @throws AcmeException if the CA refuses the account
   */
  public Login login(CaProfile profile, Session session) throws AcmeException {
    Optional<Known> k = current(profile, session);
    if (k.isPresent()) {
      return session.login(k.get().url(), k.get().key());
    }
    return locked(profile, () -> loginOrCreateLocked(profile, session));
  }

  /**
   * The account as known here, unless its key file changed since (a rollover: read again) or a
   * rollover was interrupted (settled first).
   */
  private Optional<Known> current(CaProfile profile, Session session) throws AcmeException {
    if (Files.exists(nextKeyFile(profile))) {
      locked(profile, () -> settleLocked(profile, session));
    }
    Known k = known.get(profile.name());
    if (k == null) {
      return Optional.empty();
    }
    if (!k.version().equals(version(keyFile(profile)))) {
      known.remove(profile.name(), k);
      LOGGER.info("acme account key changed on disk, read again: profile={}", profile.name());
      return Optional.empty();
    }
    return Optional.of(k);
  }

  /** What identifies the file's content: its inode and modification time. */
  private static Object version(Path file) {
    try {
      java.nio.file.attribute.BasicFileAttributes a =
          Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
      return java.util.Arrays.asList(a.fileKey(), a.lastModifiedTime(), a.size());
    } catch (IOException e) {
      return "missing";
    }
  }

  /** Work on the profile's account files that another process must not do at the same time. */
  @FunctionalInterface
  private interface LockedWork<T> {
    T run() throws AcmeException;
  }

  private synchronized <T> T locked(CaProfile profile, LockedWork<T> work) throws AcmeException {
    // Several processes share the key folder (two order-service instances starting at once on a
    // fresh folder): the key and the account are made by one of them, under a lock on the
    // profile's folder, and the others use what it made. Without it each made a key and an
    // account of its own, and a challenge-service holding the other key was refused the order's
    // authorizations ("not the owner of the authorization"), seen in the chaos run.
    Path lockFile = keyDir.resolve(profile.name()).resolve(".lock");
    Object monitor = MONITORS.computeIfAbsent(lockFile.toAbsolutePath(), p -> new Object());
    synchronized (monitor) {
      try {
        prepare(lockFile, false);
      } catch (IOException e) {
        throw new IllegalStateException("cannot create " + lockFile.getParent() + ": " + e, e);
      }
      try (FileChannel channel =
          FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock lock = channel.lock();
        try {
          return work.run();
        } finally {
          lock.release();
        }
      } catch (IOException e) {
        throw new IllegalStateException("cannot lock " + lockFile + ": " + e, e);
      }
    }
  }

  /** One monitor per lock file in this JVM: a FileLock is held for the whole JVM. */
  private static final java.util.Map<Path, Object> MONITORS =
      new java.util.concurrent.ConcurrentHashMap<>();

  private Login loginOrCreateLocked(CaProfile profile, Session session) throws AcmeException {
    settleLocked(profile, session);
    KeyPair key = loadOrCreateKey(profile);
    Object version = version(keyFile(profile));
    Optional<URL> url = accountUrl(profile);
    if (url.isPresent()) {
      known.put(profile.name(), new Known(url.get(), key, version));
      return session.login(url.get(), key);
    }
    AccountBuilder builder = new AccountBuilder().useKeyPair(key);
    if (profile.termsAgreed()) {
      builder.agreeToTermsOfService();
    }
    profile.contacts().forEach(builder::addContact);
    if (profile.usesEab()) {
      builder.withKeyIdentifier(
          profile.eabKeyId().orElseThrow(), profile.eabHmacKey().orElseThrow());
    }
    Login login = builder.createLogin(session);
    writeOwnerOnly(urlFile(profile), login.getAccountLocation().toString());
    known.put(profile.name(), new Known(login.getAccountLocation(), key, version));
    LOGGER.info(
        "acme account created: profile={} account={}", profile.name(), login.getAccountLocation());
    return login;
  }

  /** A login for a service that only uses the account (it must exist already). */
  public Login existingLogin(CaProfile profile, Session session) {
    Optional<Known> k;
    try {
      k = current(profile, session);
    } catch (AcmeException e) {
      throw new CaCallFailure(e);
    }
    if (k.isPresent()) {
      return session.login(k.get().url(), k.get().key());
    }
    URL url =
        accountUrl(profile)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "no account for CA profile '"
                            + profile.name()
                            + "' in "
                            + keyDir
                            + " (order-service creates it; the key folder must be shared)"));
    Object version = version(keyFile(profile));
    KeyPair key = loadKey(profile);
    known.put(profile.name(), new Known(url, key, version));
    return session.login(url, key);
  }

  /** What a rollover did. */
  public record Rollover(URL account, KeyPair next) {}

  /**
   * Rolls {@code profile}'s account key over to a new EC P-384 key (RFC 8555 section 7.3.5), under
   * the profile's lock: an interrupted rollover is settled first; the new key is written to {@code
   * account.key.next} and synced; the CA changes the key ({@code keyChange}, signed by both); the
   * new key is moved over {@code account.key}. When the CA's answer is lost, the CA is asked which
   * key it knows, and that decides.
   *
   * @throws AcmeException if the CA refuses (the old key stays)
   */
  public Rollover rollover(CaProfile profile, Session session) throws AcmeException {
    return locked(
        profile,
        () -> {
          settleLocked(profile, session);
          URL url =
              accountUrl(profile)
                  .orElseThrow(
                      () ->
                          new IllegalStateException(
                              "no account for CA profile '" + profile.name() + "' in " + keyDir));
          KeyPair previous = loadKey(profile);
          KeyPair next = KeyPairUtils.createECKeyPair("secp384r1");
          writeKey(nextKeyFile(profile), next);
          try {
            session.login(url, previous).getAccount().changeKey(next);
          } catch (AcmeException | RuntimeException e) {
            // Refused, or the answer lost: the CA's state decides.
            if (settleLocked(profile, session).equals(Settled.FINISHED)) {
              LOGGER.warn(
                  "the keyChange answer was lost, but the CA has the new key: profile={}: {}",
                  profile.name(),
                  e.toString());
              return new Rollover(url, next);
            }
            throw e;
          }
          switchTo(profile, url, next);
          LOGGER.info("acme account key rolled over: profile={} account={}", profile.name(), url);
          return new Rollover(url, next);
        });
  }

  /** How an interrupted rollover was settled. */
  private enum Settled {
    /** There was none. */
    NONE,
    /** The CA had the new key: it is now the account key. */
    FINISHED,
    /** The CA still had the old key: the new one was discarded. */
    DISCARDED
  }

  /**
   * Settles a rollover of {@code profile} that a crash interrupted ({@code account.key.next} left):
   * the CA says which key it knows; a no-op when there is none. Called under the lock.
   */
  private Settled settleLocked(CaProfile profile, Session session) throws AcmeException {
    Path nextFile = nextKeyFile(profile);
    if (!Files.exists(nextFile)) {
      return Settled.NONE;
    }
    KeyPair next = readKey(nextFile);
    Optional<URL> url = accountUrl(profile);
    Optional<URL> known = accountOf(session, next);
    if (known.isPresent() && (url.isEmpty() || known.get().equals(url.get()))) {
      switchTo(profile, known.get(), next);
      LOGGER.warn(
          "interrupted rollover finished: the CA knows the new key: profile={} account={}",
          profile.name(),
          known.get());
      return Settled.FINISHED;
    }
    try {
      Files.delete(nextFile);
    } catch (IOException e) {
      throw new IllegalStateException("cannot delete " + nextFile + ": " + e, e);
    }
    LOGGER.warn(
        "interrupted rollover discarded: the CA still knows the old key: profile={}",
        profile.name());
    return Settled.DISCARDED;
  }

  /** The account the CA holds for {@code key}, asked without creating one. */
  private static Optional<URL> accountOf(Session session, KeyPair key) throws AcmeException {
    try {
      return Optional.of(
          new AccountBuilder()
              .onlyExisting()
              .useKeyPair(key)
              .createLogin(session)
              .getAccountLocation());
    } catch (org.shredzone.acme4j.exception.AcmeServerException e) {
      if (e.getType() != null
          && e.getType().toString().equals("urn:ietf:params:acme:error:accountDoesNotExist")) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** Makes {@code next} the account key (an atomic move) and the key every login uses. */
  private void switchTo(CaProfile profile, URL url, KeyPair next) {
    Path file = keyFile(profile);
    try {
      Files.move(
          nextKeyFile(profile),
          file,
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
      syncDirectory(file.getParent());
    } catch (IOException e) {
      throw new IllegalStateException("cannot switch to the new account key " + file + ": " + e, e);
    }
    known.put(profile.name(), new Known(url, next, version(file)));
  }

  /** The recorded account URL of {@code profile}, if the account exists. */
  public Optional<URL> accountUrl(CaProfile profile) {
    Path file = urlFile(profile);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(URI.create(Files.readString(file, StandardCharsets.UTF_8).trim()).toURL());
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file + ": " + e, e);
    }
  }

  private KeyPair loadOrCreateKey(CaProfile profile) {
    Path file = keyFile(profile);
    if (Files.exists(file)) {
      return loadKey(profile);
    }
    KeyPair key = KeyPairUtils.createECKeyPair("secp384r1");
    try {
      Path tmp = prepare(file, true);
      try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        KeyPairUtils.writeKeyPair(key, out);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write the account key " + file + ": " + e, e);
    }
    LOGGER.info("acme account key generated: profile={} file={}", profile.name(), file);
    return key;
  }

  private KeyPair loadKey(CaProfile profile) {
    return readKey(keyFile(profile));
  }

  private static KeyPair readKey(Path file) {
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return KeyPairUtils.readKeyPair(in);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the account key " + file + ": " + e, e);
    }
  }

  /** Writes {@code key} to {@code file}, owner-only, synced to the disk before it is named. */
  private static void writeKey(Path file, KeyPair key) {
    try {
      Path tmp = prepare(file, true);
      java.io.StringWriter pem = new java.io.StringWriter();
      KeyPairUtils.writeKeyPair(key, pem);
      try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        channel.write(java.nio.ByteBuffer.wrap(pem.toString().getBytes(StandardCharsets.UTF_8)));
        channel.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      syncDirectory(file.getParent());
    } catch (IOException e) {
      throw new IllegalStateException("cannot write the account key " + file + ": " + e, e);
    }
  }

  /** Syncs a folder (its entries: a rename) to the disk, where the platform allows it. */
  private static void syncDirectory(Path dir) {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      // Not every platform opens a folder; the rename itself is atomic.
    }
  }

  private static void writeOwnerOnly(Path file, String text) {
    try {
      Path tmp = prepare(file, true);
      Files.writeString(tmp, text + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write " + file + ": " + e, e);
    }
  }

  /**
   * Creates the owner-only folder of {@code file} and, with {@code tmp}, an owner-only temporary
   * file beside it, named for this writer alone.
   */
  private static Path prepare(Path file, boolean tmp) throws IOException {
    Path dir = file.getParent();
    if (!Files.exists(dir)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
    }
    if (!tmp) {
      return file;
    }
    return Files.createFile(
        dir.resolve(file.getFileName() + "." + java.util.UUID.randomUUID() + ".tmp"),
        PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
  }
}
