import { Migration } from '@mikro-orm/migrations';

/**
 * Initial schema. Hand-written SQL, portable between MySQL 8 and MariaDB 10.11.
 * Tokens are ASCII and case-sensitive (ascii_bin); text is utf8mb4.
 */
export class Migration0001InitialSchema extends Migration {
  override async up(): Promise<void> {
    this.addSql(`CREATE TABLE applications (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      token VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      name VARCHAR(255) NOT NULL,
      chats_count INT UNSIGNED NOT NULL DEFAULT 0,
      command_id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      version BIGINT UNSIGNED NOT NULL,
      created_at DATETIME(3) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      PRIMARY KEY (id),
      UNIQUE KEY applications_token_unique (token),
      UNIQUE KEY applications_command_id_unique (command_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    this.addSql(`CREATE TABLE chats (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      application_id BIGINT UNSIGNED NOT NULL,
      number INT UNSIGNED NOT NULL,
      name VARCHAR(255) NULL,
      messages_count INT UNSIGNED NOT NULL DEFAULT 0,
      command_id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      version BIGINT UNSIGNED NOT NULL,
      created_at DATETIME(3) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      PRIMARY KEY (id),
      UNIQUE KEY chats_application_id_number_unique (application_id, number),
      UNIQUE KEY chats_command_id_unique (command_id),
      CONSTRAINT chats_application_id_foreign FOREIGN KEY (application_id) REFERENCES applications (id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    this.addSql(`CREATE TABLE messages (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      chat_id BIGINT UNSIGNED NOT NULL,
      number INT UNSIGNED NOT NULL,
      body MEDIUMTEXT NOT NULL,
      command_id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      version BIGINT UNSIGNED NOT NULL,
      created_at DATETIME(3) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      PRIMARY KEY (id),
      UNIQUE KEY messages_chat_id_number_unique (chat_id, number),
      UNIQUE KEY messages_command_id_unique (command_id),
      CONSTRAINT messages_chat_id_foreign FOREIGN KEY (chat_id) REFERENCES chats (id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    this.addSql(`CREATE TABLE partition_fences (
      partition_no INT UNSIGNED NOT NULL,
      epoch BIGINT UNSIGNED NOT NULL,
      owner VARCHAR(128) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      PRIMARY KEY (partition_no)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  override async down(): Promise<void> {
    this.addSql('DROP TABLE partition_fences');
    this.addSql('DROP TABLE messages');
    this.addSql('DROP TABLE chats');
    this.addSql('DROP TABLE applications');
  }
}
