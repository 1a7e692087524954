// A UDP sink cheaper than the SFU it measures: non-blocking recvmmsg in batches, sleeping ~1 ms between
// drains (so the kernel does not wake it, and charge the worker, per packet). Counts RTP packets per SSRC.
// Usage: udp-sink <duration-ms> [port]. Prints "port <n>" once bound, then a JSON object {"<ssrc>": count, ...}.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256
#define MAX_SSRC 65536

static uint32_t ssrcs[MAX_SSRC];
static uint64_t counts[MAX_SSRC];
static int used;

static void count(uint32_t ssrc) {
  // Open addressing on the low bits; a few thousand SSRCs fit easily.
  uint32_t h = (ssrc * 2654435761u) % MAX_SSRC;
  while (counts[h] && ssrcs[h] != ssrc) h = (h + 1) % MAX_SSRC;
  if (!counts[h]) { ssrcs[h] = ssrc; used++; }
  counts[h]++;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  double duration = argc > 1 ? atof(argv[1]) : 5000;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int size = 64 * 1024 * 1024;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(argc > 2 ? atoi(argv[2]) : 0)};
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("bind"); return 1; }
  socklen_t len = sizeof addr;
  getsockname(fd, (struct sockaddr *)&addr, &len);
  printf("port %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  static char bufs[BATCH][1500];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  double end = now_ms() + duration;
  while (now_ms() < end) {
    for (;;) {
      for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = sizeof bufs[i];
        memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
      if (n <= 0) break;
      for (int i = 0; i < n; i++) {
        unsigned char *p = (unsigned char *)bufs[i];
        unsigned pt = p[1] & 0x7f;
        if (msgs[i].msg_len < 12 || (pt >= 72 && pt <= 78)) continue; // RTCP
        count(((uint32_t)p[8] << 24) | ((uint32_t)p[9] << 16) | ((uint32_t)p[10] << 8) | p[11]);
      }
    }
    usleep(1000);
  }
  printf("{");
  int first = 1;
  for (int h = 0; h < MAX_SSRC; h++) if (counts[h]) { printf("%s\"%u\":%llu", first ? "" : ",", ssrcs[h], (unsigned long long)counts[h]); first = 0; }
  printf("}\n");
  return 0;
}
