package dev.renewal.testkit.pebble;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away CA and a server certificate for {@code localhost} and {@code 127.0.0.1}, written as
 * PEM files. Debian's Pebble ships no TLS certificate; this makes one for each start.
 *
 * @param caCertificate the CA that clients must trust (PEM)
 * @param serverCertificate the server's certificate (PEM)
 * @param serverKey the server's private key (PEM, owner-only permissions)
 */
public record TlsMaterial(Path caCertificate, Path serverCertificate, Path serverKey) {

  /** Generates the material into {@code dir}. */
  public static TlsMaterial generate(Path dir) {
    try {
      Files.createDirectories(dir);
      KeyPair caKeys = ecKeyPair();
      X500Name caName = new X500Name("CN=renewal test CA " + Long.toHexString(System.nanoTime()));
      Instant now = Instant.now();
      X509v3CertificateBuilder ca =
          new JcaX509v3CertificateBuilder(
              caName,
              BigInteger.valueOf(now.toEpochMilli()),
              Date.from(now.minus(Duration.ofHours(1))),
              Date.from(now.plus(Duration.ofDays(30))),
              caName,
              caKeys.getPublic());
      ca.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      ca.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509Certificate caCert = sign(ca, caKeys);

      KeyPair serverKeys = ecKeyPair();
      X509v3CertificateBuilder server =
          new JcaX509v3CertificateBuilder(
              caCert,
              BigInteger.valueOf(now.toEpochMilli() + 1),
              Date.from(now.minus(Duration.ofHours(1))),
              Date.from(now.plus(Duration.ofDays(30))),
              new X500Name("CN=localhost"),
              serverKeys.getPublic());
      server.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(
              new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1")
              }));
      server.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      X509Certificate serverCert = sign(server, caKeys);

      TlsMaterial material =
          new TlsMaterial(
              dir.resolve("ca.pem"), dir.resolve("server.pem"), dir.resolve("server.key"));
      Files.writeString(material.caCertificate(), pem(caCert), StandardCharsets.UTF_8);
      Files.writeString(material.serverCertificate(), pem(serverCert), StandardCharsets.UTF_8);
      Files.deleteIfExists(material.serverKey());
      Files.createFile(
          material.serverKey(),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      // PKCS#8 ("PRIVATE KEY"): the SEC1 form BouncyCastle writes for a JCA EC key lacks the curve.
      Files.writeString(
          material.serverKey(),
          pem(new JcaPKCS8Generator(serverKeys.getPrivate(), null).generate()),
          StandardCharsets.UTF_8);
      return material;
    } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot generate TLS material in " + dir + ": " + e, e);
    }
  }

  private static KeyPair ecKeyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
    return generator.generateKeyPair();
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer)
      throws OperatorCreationException, GeneralSecurityException {
    return new JcaX509CertificateConverter()
        .getCertificate(
            builder.build(
                new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
  }

  private static String pem(Object object) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }
}
