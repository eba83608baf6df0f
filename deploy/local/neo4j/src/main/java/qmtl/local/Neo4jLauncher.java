package qmtl.local;

import java.nio.file.Path;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * Starts an embedded Neo4j Community DBMS with the Bolt connector bound to
 * 127.0.0.1 only. Usage: Neo4jLauncher HOME_DIR BOLT_PORT [PAGECACHE_MB]
 * [TX_MAX_MB]. Prints "QMTL_NEO4J_READY bolt://127.0.0.1:PORT" once the DBMS
 * is up and shuts down cleanly on SIGTERM/SIGINT.
 *
 * Settings beyond Neo4j's defaults (all Community 5.26 settings):
 * - db.memory.transaction.max (TX_MAX_MB, default 256 MiB): Neo4j's default
 *   is 0 (no per-transaction limit), so one large transaction can take the
 *   whole shared pool (dbms.memory.transaction.total.max, 70 % of the heap)
 *   and every other transaction then fails. With a per-transaction limit a
 *   too-large transaction fails alone, with its own error code
 *   (Neo.ClientError.General.TransactionOutOfMemoryError).
 */
public final class Neo4jLauncher {
  private Neo4jLauncher() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length < 2) {
      System.err.println("usage: Neo4jLauncher HOME_DIR BOLT_PORT [PAGECACHE_MB] [TX_MAX_MB]");
      System.exit(2);
    }
    Path home = Path.of(args[0]).toAbsolutePath();
    int port = Integer.parseInt(args[1]);
    long pageCacheMb = args.length > 2 ? Long.parseLong(args[2]) : 256L;
    long txMaxMb = args.length > 3 ? Long.parseLong(args[3]) : 256L;

    DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
        .setConfig(BoltConnector.enabled, true)
        .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
        .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
        .setConfig(GraphDatabaseSettings.auth_enabled, false)
        .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb))
        .setConfig(GraphDatabaseSettings.memory_transaction_max_size, ByteUnit.mebiBytes(txMaxMb))
        .build();
    Runtime.getRuntime().addShutdownHook(new Thread(dbms::shutdown, "neo4j-shutdown"));
    System.out.println("QMTL_NEO4J_READY bolt://127.0.0.1:" + port);
    System.out.flush();
    Thread.currentThread().join();
  }
}
