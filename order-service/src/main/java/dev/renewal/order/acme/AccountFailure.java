package dev.renewal.order.acme;

import dev.renewal.acme.CaCallFailure;

/**
 * A CA call of the account step failed (the CA refused the account, or could not be reached for it)
 * before any order was asked: the failure's stage is {@code ACCOUNT}, not {@code ORDER}.
 */
public final class AccountFailure extends CaCallFailure {
  private static final long serialVersionUID = 1L;

  public AccountFailure(Throwable cause) {
    super("the ACME account could not be created or used: " + cause.getMessage(), cause);
  }
}
