package dev.renewal.finalize.handler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.renewal.events.KeyPolicy;
import dev.renewal.events.KeyType;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.shredzone.acme4j.util.KeyPairUtils;

class CertificateKeysTest {
  @TempDir Path dir;

  @Test
  void privatePemIsTheKeyThatWasGeneratedAndKeptOwnerOnly() throws Exception {
    CertificateKeys keys = new CertificateKeys(dir);
    String ref = CertificateKeys.reference("www", "r-1");
    KeyPair generated = keys.loadOrCreate(ref, KeyType.EC_P256);

    String pem = keys.privatePem(ref, KeyType.EC_P256);

    assertThat(pem).startsWith("-----BEGIN EC PRIVATE KEY-----");
    KeyPair parsed = KeyPairUtils.readKeyPair(new StringReader(pem));
    assertThat(((ECPrivateKey) parsed.getPrivate()).getS())
        .isEqualTo(((ECPrivateKey) generated.getPrivate()).getS());
    assertThat(keys.loadOrCreate(ref, KeyType.EC_P256).getPublic().getEncoded())
        .isEqualTo(generated.getPublic().getEncoded());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(ref))))
        .isEqualTo("rw-------");
  }

  @Test
  void privatePemOfAKeyNotYetGeneratedGeneratesIt() throws Exception {
    CertificateKeys keys = new CertificateKeys(dir);
    String ref = CertificateKeys.reference("www", "r-2");

    String pem = keys.privatePem(ref, KeyType.EC_P256);

    assertThat(Files.readString(dir.resolve(ref))).isEqualTo(pem);
    assertThat(keys.privatePem(ref, KeyType.EC_P256)).isEqualTo(pem);
  }

  @Test
  void everyRequestGetsANewKeyUnlessItsPolicyIsReuse() {
    CertificateKeys keys = new CertificateKeys(dir);
    String first = CertificateKeys.reference("www", "r-1", KeyPolicy.ROTATE);
    String renewal = CertificateKeys.reference("www", "r-2", KeyPolicy.ROTATE);
    assertThat(first).isNotEqualTo(renewal);
    assertThat(keys.loadOrCreate(first, KeyType.EC_P256).getPublic())
        .isNotEqualTo(keys.loadOrCreate(renewal, KeyType.EC_P256).getPublic());
    String reused = CertificateKeys.reference("www", "r-3", KeyPolicy.REUSE);
    assertThat(CertificateKeys.reference("www", "r-4", KeyPolicy.REUSE)).isEqualTo(reused);
    assertThat(keys.loadOrCreate(reused, KeyType.EC_P256).getPublic())
        .isEqualTo(
            keys.loadOrCreate(
                    CertificateKeys.reference("www", "r-4", KeyPolicy.REUSE), KeyType.EC_P256)
                .getPublic());
  }

  @Test
  void aReferenceOutsideTheStoreIsRefused() {
    CertificateKeys keys = new CertificateKeys(dir);
    assertThatThrownBy(() -> keys.privatePem("../escape.key", KeyType.EC_P256))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
