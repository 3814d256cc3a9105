package dev.renewal.acme;

import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * The HTTP client of an acme4j session, remembering the {@code Retry-After} of a 5xx answer: acme4j
 * 4.0 reports a 5xx without a problem document as a plain {@code "HTTP 503"} and drops the header,
 * though a CA that is down for maintenance says there when to come back (RFC 9110 section 10.2.3).
 * acme4j sends synchronously on the calling thread, so the last answer of this thread is the one
 * that failed; {@link CaCallFailure} takes it when a gateway wraps the failure.
 */
final class ServerErrorRetryAfter extends HttpClient {
  private static final ThreadLocal<Instant> LAST = new ThreadLocal<>();

  private final HttpClient delegate;

  ServerErrorRetryAfter(HttpClient delegate) {
    this.delegate = delegate;
  }

  /** The Retry-After of this thread's last answer, if it was a 5xx with a valid one; cleared. */
  static Optional<Instant> take() {
    Instant at = LAST.get();
    LAST.remove();
    return Optional.ofNullable(at);
  }

  /** Delta-seconds or an HTTP date (RFC 9110 section 10.2.3); empty for anything else. */
  static Optional<Instant> parse(String value, Instant now) {
    String v = value.trim();
    if (v.matches("[0-9]{1,9}")) {
      return Optional.of(now.plusSeconds(Long.parseLong(v)));
    }
    try {
      return Optional.of(ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  @Override
  public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
      throws IOException, InterruptedException {
    LAST.remove();
    HttpResponse<T> response = delegate.send(request, handler);
    if (response.statusCode() >= 500) {
      response
          .headers()
          .firstValue("Retry-After")
          .flatMap(v -> parse(v, Instant.now()))
          .ifPresent(LAST::set);
    }
    return response;
  }

  @Override
  public <T> CompletableFuture<HttpResponse<T>> sendAsync(
      HttpRequest request, HttpResponse.BodyHandler<T> handler) {
    return delegate.sendAsync(request, handler);
  }

  @Override
  public <T> CompletableFuture<HttpResponse<T>> sendAsync(
      HttpRequest request,
      HttpResponse.BodyHandler<T> handler,
      HttpResponse.PushPromiseHandler<T> push) {
    return delegate.sendAsync(request, handler, push);
  }

  @Override
  public Optional<CookieHandler> cookieHandler() {
    return delegate.cookieHandler();
  }

  @Override
  public Optional<Duration> connectTimeout() {
    return delegate.connectTimeout();
  }

  @Override
  public Redirect followRedirects() {
    return delegate.followRedirects();
  }

  @Override
  public Optional<ProxySelector> proxy() {
    return delegate.proxy();
  }

  @Override
  public SSLContext sslContext() {
    return delegate.sslContext();
  }

  @Override
  public SSLParameters sslParameters() {
    return delegate.sslParameters();
  }

  @Override
  public Optional<Authenticator> authenticator() {
    return delegate.authenticator();
  }

  @Override
  public Version version() {
    return delegate.version();
  }

  @Override
  public Optional<Executor> executor() {
    return delegate.executor();
  }
}
