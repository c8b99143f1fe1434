// zk_floor: the store's floor for `conch elect x -- true` on ZooKeeper,
// written directly against the ZooKeeper C client (libzookeeper_mt), plus
// the few helpers bench/elect_zk.sh needs. It links nothing from src/.
//
// usage: zk_floor MODE ...
//   floor HOSTS PARENT TIMEOUT_MS
//       The floor: opens a session (timeout TIMEOUT_MS) and waits until it
//       is connected, creates one ephemeral sequential node PARENT/n- (the
//       kind of node conch's contenders are; PARENT must exist), closes the
//       handle (which ends the session and deletes the node) and exits 0.
//       What conch does on top: create PARENT as a container when absent,
//       list the queue, spawn the command, wait for it, end the session.
//   elect HOSTS PARENT TIMEOUT_MS PROG [ARG...]
//       the floor plus the rest of what `conch elect x -- PROG` must do on
//       ZooKeeper when PARENT exists and the office is vacant: after the
//       create, lists PARENT's children (the queue), posix_spawn()s PROG and
//       waits for it, then closes; fails unless PROG exits 0
//   mkparent HOSTS PATH
//       creates PATH and its missing ancestors as persistent nodes (done
//       once, before anything is timed)
//   set HOSTS PATH DATA
//       sets PATH's data (PATH must exist; mkparent first) over a session
//       opened beforehand, and prints CLOCK_REALTIME in ns read just
//       before the request went out (the moment of an edit, for latency)
//   count HOSTS PATH
//       prints how many children PATH has (0 when PATH does not exist)
//   ls HOSTS PATH
//       prints one line per child of PATH: its name, a space, its data
//       (as stored, with any newline replaced by a space); nothing when PATH
//       does not exist; a child deleted meanwhile is left out
//   write HOSTS PARENT TIMEOUT_MS SETTLE_S
//       the reference write: opens a session, creates an ephemeral node
//       PARENT/w- (not timed), waits SETTLE_S seconds (so the server has
//       been idle that long, as before a settled handover), then times one
//       delete of that node over the open session and prints its round trip
//       in ms
//   spawn STAMP FILE
//       the reference spawn: reads CLOCK_REALTIME, posix_spawn()s `STAMP
//       FILE` (bench/lib.sh's stamp helper, which writes CLOCK_REALTIME in
//       ns to FILE and exits at once), reaps it, and prints two figures in
//       ms: spawn -> the command's first instruction (its stamp), and spawn
//       -> reaped
//   run PROG [ARG...]
//       posix_spawn()s PROG (`/bin/true`, say), reaps it, and prints spawn
//       -> reaped in ms; fails unless PROG exits 0
// Every ZooKeeper call has a 10 s deadline for connecting; a failure exits
// 2 with one line on stderr, a usage error 64. The C client's own logging
// is silenced.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zookeeper/zookeeper.h>

extern char** environ;

// Every helper mode (mkparent, count, ls) asks for this session timeout.
#define HELPER_TIMEOUT_MS 10000

// The session's state, set by the watcher on the client's event thread.
struct conn {
  pthread_mutex_t mu;
  pthread_cond_t changed;
  int state;
};

static void on_event(zhandle_t* zh, int type, int state, const char* path,
                     void* ctx) {
  (void)zh;
  (void)path;
  if (type != ZOO_SESSION_EVENT) return;
  struct conn* c = ctx;
  pthread_mutex_lock(&c->mu);
  c->state = state;
  pthread_cond_broadcast(&c->changed);
  pthread_mutex_unlock(&c->mu);
}

static double now_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void fail(const char* what, int rc) {
  fprintf(stderr, "zk_floor: %s: %s\n", what, zerror(rc));
  exit(2);
}

// Opens a handle and waits (at most 10 s) until its session is connected.
// Every mode opens one session at the most, so its state is a static.
static zhandle_t* open_session(const char* hosts, int timeout_ms) {
  static struct conn conn;
  struct conn* c = &conn;
  pthread_mutex_init(&c->mu, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&c->changed, &attr);
  c->state = 0;
  // Level 0 turns the client's logging off altogether; the stream is
  // /dev/null as well, should a future client log below that.
  zoo_set_debug_level((ZooLogLevel)0);
  FILE* null = fopen("/dev/null", "we");
  if (null != NULL) zoo_set_log_stream(null);
  zhandle_t* zh = zookeeper_init(hosts, on_event, timeout_ms, NULL, c, 0);
  if (zh == NULL) {
    fprintf(stderr, "zk_floor: zookeeper_init: %s\n", strerror(errno));
    exit(2);
  }
  // As conch does: without this the client resolves HOSTS again every time
  // its I/O thread polls, which costs more than the requests; a floor that
  // paid for it would flatter whoever avoids it.
  zoo_set_servers_resolution_delay(zh, 60000);
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += 10;
  pthread_mutex_lock(&c->mu);
  while (c->state != ZOO_CONNECTED_STATE) {
    if (pthread_cond_timedwait(&c->changed, &c->mu, &deadline) == ETIMEDOUT) {
      fprintf(stderr, "zk_floor: not connected to %s within 10 s\n", hosts);
      exit(2);
    }
  }
  pthread_mutex_unlock(&c->mu);
  return zh;
}

static void close_session(zhandle_t* zh) {
  int rc = zookeeper_close(zh);
  if (rc != ZOK) fail("close", rc);
}

// Creates the ephemeral sequential node PARENT/PREFIX<sequence> (data "x",
// the kind of node conch's contenders are) and writes its path to created
// (n bytes); fails on any error.
static void create_ephemeral(zhandle_t* zh, const char* parent,
                             const char* prefix, char* created, int n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", parent, prefix);
  int rc = zoo_create(zh, path, "x", 1, &ZOO_OPEN_ACL_UNSAFE,
                      ZOO_EPHEMERAL_SEQUENTIAL, created, n);
  if (rc != ZOK) fail("create", rc);
}

// Lists PATH's children into *children (for deallocate_String_vector) and
// returns ZOK; when PATH does not exist, returns ZNONODE with no children if
// missing_ok, else fails, as on any other error.
static int list_children(zhandle_t* zh, const char* path, int missing_ok,
                         struct String_vector* children) {
  children->count = 0;
  children->data = NULL;
  int rc = zoo_get_children(zh, path, 0, children);
  if (rc != ZOK && !(missing_ok && rc == ZNONODE)) fail("get children", rc);
  if (rc != ZOK) {
    children->count = 0;
    children->data = NULL;
  }
  return rc;
}

// posix_spawn()s argv[0] with argv and reaps it; sets *t0 to the time on
// clock just before the spawn and *t_reaped to the time once reaped (ms).
// Returns 0 when it exited 0, else 2 (with a line on stderr).
static int spawn_and_wait(char** argv, clockid_t clock, double* t0,
                          double* t_reaped) {
  *t0 = now_ms(clock);
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
  if (rc != 0) {
    fprintf(stderr, "zk_floor: posix_spawn %s: %s\n", argv[0], strerror(rc));
    return 2;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  *t_reaped = now_ms(clock);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "zk_floor: %s failed\n", argv[0]);
    return 2;
  }
  return 0;
}

static int floor_mode(const char* hosts, const char* parent, int timeout_ms) {
  zhandle_t* zh = open_session(hosts, timeout_ms);
  char created[1100];
  create_ephemeral(zh, parent, "n-", created, sizeof created);
  close_session(zh);
  return 0;
}

static int elect_mode(const char* hosts, const char* parent, int timeout_ms,
                      char** prog) {
  zhandle_t* zh = open_session(hosts, timeout_ms);
  char created[1100];
  create_ephemeral(zh, parent, "n-", created, sizeof created);
  struct String_vector children;
  list_children(zh, parent, 0, &children);
  deallocate_String_vector(&children);
  double t0, t_reaped;
  int status = spawn_and_wait(prog, CLOCK_MONOTONIC, &t0, &t_reaped);
  close_session(zh);
  return status;
}

static int mkparent_mode(const char* hosts, const char* path) {
  zhandle_t* zh = open_session(hosts, HELPER_TIMEOUT_MS);
  char buf[1024];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof buf || path[0] != '/') {
    fprintf(stderr, "zk_floor: bad path %s\n", path);
    return 64;
  }
  // Each ancestor in turn, then the path itself.
  for (size_t i = 1; i <= n; i++) {
    if (i < n && path[i] != '/') continue;
    memcpy(buf, path, i);
    buf[i] = '\0';
    int rc = zoo_create(zh, buf, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    if (rc != ZOK && rc != ZNODEEXISTS) fail("create parent", rc);
  }
  close_session(zh);
  return 0;
}

static int set_mode(const char* hosts, const char* path, const char* data) {
  zhandle_t* zh = open_session(hosts, HELPER_TIMEOUT_MS);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int rc = zoo_set(zh, path, data, (int)strlen(data), -1);
  if (rc != ZOK) fail("set", rc);
  printf("%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  close_session(zh);
  return 0;
}

// Prints one line per child of PATH in children: its name, a space, its
// data (with any newline replaced by a space); leaves out a child deleted
// meanwhile.
static void print_children(zhandle_t* zh, const char* path,
                           const struct String_vector* children) {
  static char data[1 << 20];
  for (int i = 0; i < children->count; i++) {
    char child[1024];
    snprintf(child, sizeof child, "%s/%s", path, children->data[i]);
    int len = sizeof data - 1;
    int get_rc = zoo_get(zh, child, 0, data, &len, NULL);
    if (get_rc == ZNONODE) continue;
    if (get_rc != ZOK) fail("get", get_rc);
    if (len < 0) len = 0;
    data[len] = '\0';
    for (int k = 0; k < len; k++) {
      if (data[k] == '\n') data[k] = ' ';
    }
    printf("%s %s\n", children->data[i], data);
  }
}

// The count and ls modes: PATH's children (none when PATH does not exist),
// as their number, or with ls one line each (print_children).
static int children_mode(const char* hosts, const char* path, int ls) {
  zhandle_t* zh = open_session(hosts, HELPER_TIMEOUT_MS);
  struct String_vector children;
  list_children(zh, path, 1, &children);
  if (ls) {
    print_children(zh, path, &children);
  } else {
    printf("%d\n", children.count);
  }
  deallocate_String_vector(&children);
  close_session(zh);
  return 0;
}

static int write_mode(const char* hosts, const char* parent, int timeout_ms,
                      double settle_s) {
  zhandle_t* zh = open_session(hosts, timeout_ms);
  char created[1100];
  create_ephemeral(zh, parent, "w-", created, sizeof created);
  if (settle_s > 0) {
    struct timespec ts = {(time_t)settle_s,
                          (long)((settle_s - (double)(time_t)settle_s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
  double t0 = now_ms(CLOCK_MONOTONIC);
  int rc = zoo_delete(zh, created, -1);
  double t1 = now_ms(CLOCK_MONOTONIC);
  if (rc != ZOK) fail("delete", rc);
  printf("%.3f\n", t1 - t0);
  close_session(zh);
  return 0;
}

static int spawn_mode(char* stamp, char* file) {
  char* argv[] = {stamp, file, NULL};
  double t0, t_reaped;
  int rc = spawn_and_wait(argv, CLOCK_REALTIME, &t0, &t_reaped);
  if (rc != 0) return rc;
  FILE* f = fopen(file, "re");
  long long ns = 0;
  if (f == NULL || fscanf(f, "%lld", &ns) != 1) {
    fprintf(stderr, "zk_floor: no stamp in %s\n", file);
    return 2;
  }
  fclose(f);
  printf("%.3f %.3f\n", (double)ns / 1e6 - t0, t_reaped - t0);
  return 0;
}

static int run_mode(char** argv) {
  double t0, t_reaped;
  int rc = spawn_and_wait(argv, CLOCK_MONOTONIC, &t0, &t_reaped);
  if (rc == 0) printf("%.3f\n", t_reaped - t0);
  return rc;
}

static int usage(void) {
  fprintf(stderr,
          "usage: zk_floor floor HOSTS PARENT TIMEOUT_MS\n"
          "       zk_floor elect HOSTS PARENT TIMEOUT_MS PROG [ARG...]\n"
          "       zk_floor mkparent HOSTS PATH\n"
          "       zk_floor set HOSTS PATH DATA\n"
          "       zk_floor count HOSTS PATH\n"
          "       zk_floor ls HOSTS PATH\n"
          "       zk_floor write HOSTS PARENT TIMEOUT_MS SETTLE_S\n"
          "       zk_floor spawn STAMP FILE\n"
          "       zk_floor run PROG [ARG...]\n");
  return 64;
}

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const char* mode = argv[1];
  if (strcmp(mode, "floor") == 0 && argc == 5) {
    return floor_mode(argv[2], argv[3], atoi(argv[4]));
  }
  if (strcmp(mode, "elect") == 0 && argc >= 6) {
    return elect_mode(argv[2], argv[3], atoi(argv[4]), argv + 5);
  }
  if (strcmp(mode, "mkparent") == 0 && argc == 4) {
    return mkparent_mode(argv[2], argv[3]);
  }
  if (strcmp(mode, "set") == 0 && argc == 5) {
    return set_mode(argv[2], argv[3], argv[4]);
  }
  if (strcmp(mode, "count") == 0 && argc == 4) {
    return children_mode(argv[2], argv[3], 0);
  }
  if (strcmp(mode, "ls") == 0 && argc == 4) {
    return children_mode(argv[2], argv[3], 1);
  }
  if (strcmp(mode, "write") == 0 && argc == 6) {
    return write_mode(argv[2], argv[3], atoi(argv[4]), atof(argv[5]));
  }
  if (strcmp(mode, "spawn") == 0 && argc == 4) {
    return spawn_mode(argv[2], argv[3]);
  }
  if (strcmp(mode, "run") == 0 && argc >= 3) return run_mode(argv + 2);
  return usage();
}
