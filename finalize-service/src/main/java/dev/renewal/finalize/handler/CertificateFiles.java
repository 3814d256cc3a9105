package dev.renewal.finalize.handler;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes an issued certificate the way users deploy them, per certificate name: {@code cert.pem}
 * (the leaf), {@code chain.pem} (the issuers), {@code fullchain.pem} (both), and {@code
 * privkey.pem} (owner-only) when the pipeline made the key. Each file is replaced atomically.
 */
public final class CertificateFiles {
  private final Path dir;

  public CertificateFiles(Path dir) {
    this.dir = dir;
  }

  /** Writes the files; returns the folder. */
  public Path write(
      String certificateName,
      String leafPem,
      String issuersPem,
      String fullChainPem,
      String privateKeyPem) {
    Path folder = dir.resolve(certificateName).normalize();
    if (!folder.startsWith(dir.normalize())) {
      throw new IllegalArgumentException(
          "certificate name outside the output folder: " + certificateName);
    }
    try {
      Files.createDirectories(folder);
      write(folder.resolve("cert.pem"), leafPem, "rw-r--r--");
      write(folder.resolve("chain.pem"), issuersPem, "rw-r--r--");
      write(folder.resolve("fullchain.pem"), fullChainPem, "rw-r--r--");
      if (privateKeyPem != null) {
        write(folder.resolve("privkey.pem"), privateKeyPem, "rw-------");
      }
      return folder;
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot write the certificate files in " + folder + ": " + e, e);
    }
  }

  private static void write(Path file, String text, String permissions) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions)));
    Files.writeString(tmp, text, StandardCharsets.US_ASCII);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
