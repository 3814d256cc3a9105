package dev.renewal.finalize.handler;

import dev.renewal.acme.AcmeSessions;
import dev.renewal.events.KeyPolicy;
import dev.renewal.events.KeyType;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.List;
import org.shredzone.acme4j.util.KeyPairUtils;

/**
 * Certificate keys the pipeline generates, on disk with owner-only permissions: {@code
 * <dir>/<certificate name>/<request id>.key}, a new one for every request (key policy ROTATE, the
 * default), or {@code <dir>/<certificate name>/reused.key} for every request of a name with key
 * policy REUSE (made by its first such request, kept by its renewals). A key whose certificate was
 * revoked for key compromise moves to {@code <dir>/<certificate name>/retired/<serial>.key}, out of
 * use. Events carry the reference (the relative path), never the key.
 */
public final class CertificateKeys {
  static {
    // acme4j's key utilities use the BC provider; do not rely on a Session having registered it.
    AcmeSessions.registerBouncyCastle();
  }

  private final Path dir;

  public CertificateKeys(Path dir) {
    this.dir = dir;
  }

  /** The reference of the key for this request. */
  public static String reference(String certificateName, String requestId) {
    return certificateName + "/" + requestId + ".key";
  }

  /** The reference of the key for a request with {@code policy}. */
  public static String reference(String certificateName, String requestId, KeyPolicy policy) {
    return policy == KeyPolicy.REUSE
        ? certificateName + "/reused.key"
        : reference(certificateName, requestId);
  }

  /** Loads the key of {@code reference}, generating it first if it does not exist. */
  public synchronized KeyPair loadOrCreate(String reference, KeyType type) {
    Path file = file(reference);
    try {
      if (Files.exists(file)) {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
          return KeyPairUtils.readKeyPair(in);
        }
      }
      Files.createDirectories(
          file.getParent(),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      KeyPair key = generate(type);
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.deleteIfExists(tmp);
      Files.createFile(
          tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII)) {
        KeyPairUtils.writeKeyPair(key, out);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      return key;
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot read or write the certificate key " + file + ": " + e, e);
    }
  }

  /** The private key of {@code reference} as PEM, for the deployed {@code privkey.pem}. */
  public String privatePem(String reference, KeyType type) {
    Path file = file(reference);
    if (!Files.exists(file)) {
      loadOrCreate(reference, type);
    }
    // The file is the PEM that KeyPairUtils wrote: no need to parse the key (which derives its
    // public point, an EC multiplication) only to write it out again.
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the certificate key " + file + ": " + e, e);
    }
  }

  /**
   * The key of {@code reference} for a revocation of the certificate {@code serial}: its retired
   * copy if {@link #retire} moved it already, else the key itself; empty when neither exists (the
   * revocation is then signed by the account). Never creates a key.
   */
  public synchronized java.util.Optional<KeyPair> forRevocation(String reference, String serial) {
    for (Path file : List.of(retiredFile(reference, serial), file(reference))) {
      if (Files.exists(file)) {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
          return java.util.Optional.of(KeyPairUtils.readKeyPair(in));
        } catch (IOException e) {
          throw new IllegalStateException("cannot read the certificate key " + file + ": " + e, e);
        }
      }
    }
    return java.util.Optional.empty();
  }

  /**
   * Moves the key of {@code reference} out of use after a key compromise of certificate {@code
   * serial}: to {@code <name>/retired/<serial>.key} (owner-only), so that no later request loads
   * it, whatever its key policy (a REUSE name gets a new key at its next request, a replay of a
   * ROTATE request a new one too). True when the key is retired (now or before), false when the
   * pipeline has no copy.
   */
  public synchronized boolean retire(String reference, String serial) {
    Path from = file(reference);
    Path to = retiredFile(reference, serial);
    try {
      if (Files.exists(to)) {
        return true;
      }
      if (!Files.exists(from)) {
        return false;
      }
      Files.createDirectories(
          to.getParent(),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
      return true;
    } catch (IOException e) {
      throw new IllegalStateException("cannot retire the certificate key " + from + ": " + e, e);
    }
  }

  private Path retiredFile(String reference, String serial) {
    if (!serial.matches("[0-9a-f]{1,64}")) {
      throw new IllegalArgumentException("not a serial number: " + serial);
    }
    return file(reference).resolveSibling("retired").resolve(serial + ".key");
  }

  private Path file(String reference) {
    Path file = dir.resolve(reference).normalize();
    if (!file.startsWith(dir.normalize())) {
      throw new IllegalArgumentException("key reference outside the key store: " + reference);
    }
    return file;
  }

  static KeyPair generate(KeyType type) {
    return switch (type) {
      case EC_P384 -> KeyPairUtils.createECKeyPair("secp384r1");
      case RSA_2048 -> KeyPairUtils.createKeyPair(2048);
      case RSA_3072 -> KeyPairUtils.createKeyPair(3072);
      case RSA_4096 -> KeyPairUtils.createKeyPair(4096);
      default -> KeyPairUtils.createECKeyPair("secp256r1");
    };
  }
}
