package dev.renewal.finalize.acme;

import java.time.Instant;
import java.util.List;

/** A downloaded certificate, in plain values (PEM), with what the event reports about it. */
public record IssuedCertificate(
    String certificateUrl,
    String chainPem,
    String leafPem,
    String issuersPem,
    List<String> alternateChainsPem,
    String serialNumber,
    Instant notBefore,
    Instant notAfter,
    String issuer,
    List<String> dnsNames,
    String ariCertId) {}
