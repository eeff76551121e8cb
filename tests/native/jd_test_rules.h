/*
 * The C tests' misuse rules: each rule runs in a forked child (a DISPATCH_CLIENT_CRASH kills the process), and
 * the parent compares how the child ended with what the rule expects, one line per rule. A rule "returns" only
 * if it also saw what it checks: a rule that sees otherwise exits 3 (WRONG).
 */
#ifndef JD_TEST_RULES_H
#define JD_TEST_RULES_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum outcome { RETURNS, CRASHES, HANGS, WRONG };
static const char *const outcome_names[] = {"returns", "crashes", "hangs", "returns but saw otherwise"};

struct rule { const char *name; void (*run)(void); enum outcome expected; };

static enum outcome run_rule(const struct rule *r) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull >= 0) dup2(devnull, 2); /* libdispatch's crash message is expected noise */
        alarm(60); /* a hang detector: every rule returns or crashes at once, but sanitizers and load slow it */
        r->run();
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) return WTERMSIG(status) == SIGALRM ? HANGS : CRASHES;
    return WEXITSTATUS(status) == 0 ? RETURNS : WEXITSTATUS(status) == 3 ? WRONG : CRASHES;
}

/* Runs the rules in order, each in its own child; returns how many ended otherwise than expected. */
static int run_rules(const struct rule *rules, size_t n) {
    int width = 0;
    for (size_t i = 0; i < n; i++) width = (int)strlen(rules[i].name) > width ? (int)strlen(rules[i].name) : width;
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        enum outcome got = run_rule(&rules[i]);
        int ok = got == rules[i].expected;
        printf("%-*s %-8s %s\n", width, rules[i].name, outcome_names[got], ok ? "ok" : "UNEXPECTED");
        failures += !ok;
    }
    return failures;
}

#endif
