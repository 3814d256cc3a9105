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
 * an EAB key (often single-use at real CAs) is used once, and the account is never looked up with
 * {@code onlyReturnExisting}. Every service of the pipeline logs in with it: the key folder is
 * shared (one machine) or mounted (many), never sent on a topic.
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

  private record Known(URL url, KeyPair key) {}

  public AccountStore(Path keyDir) {
    this.keyDir = keyDir;
  }

  /** The account key file of {@code profile}. */
  public Path keyFile(CaProfile profile) {
    return keyDir.resolve(profile.name()).resolve("account.key");
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
    Known k = known.get(profile.name());
    if (k != null) {
      return session.login(k.url(), k.key());
    }
    return loginOrCreate(profile, session);
  }

  private synchronized Login loginOrCreate(CaProfile profile, Session session)
      throws AcmeException {
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
          return loginOrCreateLocked(profile, session);
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
    KeyPair key = loadOrCreateKey(profile);
    Optional<URL> url = accountUrl(profile);
    if (url.isPresent()) {
      known.put(profile.name(), new Known(url.get(), key));
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
    known.put(profile.name(), new Known(login.getAccountLocation(), key));
    LOGGER.info(
        "acme account created: profile={} account={}", profile.name(), login.getAccountLocation());
    return login;
  }

  /** A login for a service that only uses the account (it must exist already). */
  public Login existingLogin(CaProfile profile, Session session) {
    Known k = known.get(profile.name());
    if (k != null) {
      return session.login(k.url(), k.key());
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
    KeyPair key = loadKey(profile);
    known.putIfAbsent(profile.name(), new Known(url, key));
    return session.login(url, key);
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
    Path file = keyFile(profile);
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return KeyPairUtils.readKeyPair(in);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the account key " + file + ": " + e, e);
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
