package dev.renewal.order.acme;

/** The CA refused (or could not be reached for) the ACME account, before any order was asked. */
public final class AccountFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public AccountFailure(Throwable cause) {
    super("the ACME account could not be created or used: " + cause.getMessage(), cause);
  }
}
