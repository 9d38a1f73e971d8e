import { Migration } from '@mikro-orm/migrations';

/**
 * Incarnations of the commands stream. A row's `version` is `incarnation id · 2^40 + commands-stream sequence`:
 * if the stream is recreated (NATS data lost) its sequences restart, but the incarnation id — owned by the
 * service, in MySQL, next to the rows — grows, so versions stay monotonic per row and a redelivered or retried
 * update is never mistaken for one already applied. Rows written before this migration keep their plain
 * sequence, below every new version. Portable between MySQL 8 and MariaDB 10.11.
 */
export class Migration0002CommandStreams extends Migration {
  override async up(): Promise<void> {
    this.addSql(`CREATE TABLE command_streams (
      id INT UNSIGNED NOT NULL AUTO_INCREMENT,
      stream VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      created VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      first_seen_at DATETIME(3) NOT NULL,
      PRIMARY KEY (id),
      UNIQUE KEY command_streams_stream_created_unique (stream, created)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  override async down(): Promise<void> {
    this.addSql('DROP TABLE command_streams');
  }
}
