package dev.renewal.registry;

/**
 * A schema registry said no, or could not be reached. Carries the Confluent error body ({@code
 * error_code}, {@code message}) when the registry sent one.
 */
public class SchemaRegistryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Confluent error code: subject not found. */
  public static final int SUBJECT_NOT_FOUND = 40401;

  /** Confluent error code: version not found. */
  public static final int VERSION_NOT_FOUND = 40402;

  /** Confluent error code: schema (or id) not found. */
  public static final int SCHEMA_NOT_FOUND = 40403;

  /** Confluent's code for a subject soft-deleted already (delete it with permanent=true). */
  public static final int SUBJECT_SOFT_DELETED = 40404;

  /** Confluent's code for a permanent delete of a subject not soft-deleted first. */
  public static final int SUBJECT_NOT_SOFT_DELETED = 40405;

  /** Confluent's code for a version soft-deleted already. */
  public static final int VERSION_SOFT_DELETED = 40406;

  /** Confluent's code for a permanent delete of a version not soft-deleted first. */
  public static final int VERSION_NOT_SOFT_DELETED = 40407;

  /** Confluent error code: incompatible schema (HTTP 409). */
  public static final int INCOMPATIBLE = 409;

  /** Confluent error code: invalid schema. */
  public static final int INVALID_SCHEMA = 42201;

  /** Confluent error code: invalid version. */
  public static final int INVALID_VERSION = 42202;

  /** Confluent error code: invalid compatibility level. */
  public static final int INVALID_COMPATIBILITY_LEVEL = 42203;

  /** Confluent error code: the backing store failed. */
  public static final int STORE_ERROR = 50001;

  private final int httpStatus;
  private final int errorCode;

  public SchemaRegistryException(int httpStatus, int errorCode, String message) {
    super(message);
    this.httpStatus = httpStatus;
    this.errorCode = errorCode;
  }

  public SchemaRegistryException(String message, Throwable cause) {
    super(message, cause);
    this.httpStatus = -1;
    this.errorCode = -1;
  }

  /** The HTTP status, or -1 when no response came. */
  public int httpStatus() {
    return httpStatus;
  }

  /** The Confluent {@code error_code}, or -1 when there was none. */
  public int errorCode() {
    return errorCode;
  }

  /** True for "not found" answers (unknown subject, version or id). */
  public boolean isNotFound() {
    return httpStatus == 404;
  }
}
