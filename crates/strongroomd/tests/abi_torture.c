/* The PKCS#11 ABI torture harness: a C application of libstrongroom_pkcs11.so (built and run
 * by abi_torture.rs). argv[1] is the library; STRONGROOM_CONF names the client configuration;
 * STRONGROOM_TORTURE_ROUNDS the rounds of each thread. Every call's return value is checked
 * against the codes the specification allows; the exit status is 0 only if all matched. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef unsigned long UL;
typedef UL CK_RV;
typedef unsigned char B;
typedef UL SH;
typedef UL OH;
typedef struct { B major, minor; } CK_VERSION;
typedef struct { UL mechanism; void *pParameter; UL ulParameterLen; } M;
typedef struct { UL type; void *pValue; UL ulValueLen; } A;
typedef struct { CK_VERSION cryptokiVersion; B manufacturerID[32]; UL flags; B libraryDescription[32]; CK_VERSION libraryVersion; } CK_INFO;
typedef struct { B slotDescription[64]; B manufacturerID[32]; UL flags; CK_VERSION hw, fw; } CK_SLOT_INFO;
typedef struct { B label[32], manufacturerID[32], model[16], serialNumber[16]; UL flags;
  UL maxSessions, sessions, maxRw, rw, maxPin, minPin, totalPub, freePub, totalPriv, freePriv;
  CK_VERSION hw, fw; B utcTime[16]; } CK_TOKEN_INFO;
typedef struct { UL ulMinKeySize, ulMaxKeySize, flags; } CK_MECHANISM_INFO;
typedef struct { UL slotID, state, flags, ulDeviceError; } CK_SESSION_INFO;
typedef CK_RV (*CK_CREATEMUTEX)(void **);
typedef CK_RV (*CK_MUTEXFN)(void *);
typedef struct { CK_CREATEMUTEX CreateMutex; CK_MUTEXFN DestroyMutex, LockMutex, UnlockMutex; UL flags; void *pReserved; } CK_C_INITIALIZE_ARGS;
typedef struct { B *pInterfaceName; void *pFunctionList; UL flags; } CK_INTERFACE;
typedef struct { B *pIv; UL ulIvLen, ulIvBits; B *pAAD; UL ulAADLen, ulTagBits; } CK_GCM_PARAMS;
typedef CK_RV (*CK_NOTIFY)(SH, UL, void *);

/* CK_FUNCTION_LIST_3_0, in the specification's order. */
typedef struct {
  CK_VERSION version;
  CK_RV (*C_Initialize)(void *);
  CK_RV (*C_Finalize)(void *);
  CK_RV (*C_GetInfo)(CK_INFO *);
  CK_RV (*C_GetFunctionList)(void **);
  CK_RV (*C_GetSlotList)(B, UL *, UL *);
  CK_RV (*C_GetSlotInfo)(UL, CK_SLOT_INFO *);
  CK_RV (*C_GetTokenInfo)(UL, CK_TOKEN_INFO *);
  CK_RV (*C_GetMechanismList)(UL, UL *, UL *);
  CK_RV (*C_GetMechanismInfo)(UL, UL, CK_MECHANISM_INFO *);
  CK_RV (*C_InitToken)(UL, B *, UL, B *);
  CK_RV (*C_InitPIN)(SH, B *, UL);
  CK_RV (*C_SetPIN)(SH, B *, UL, B *, UL);
  CK_RV (*C_OpenSession)(UL, UL, void *, CK_NOTIFY, SH *);
  CK_RV (*C_CloseSession)(SH);
  CK_RV (*C_CloseAllSessions)(UL);
  CK_RV (*C_GetSessionInfo)(SH, CK_SESSION_INFO *);
  CK_RV (*C_GetOperationState)(SH, B *, UL *);
  CK_RV (*C_SetOperationState)(SH, B *, UL, OH, OH);
  CK_RV (*C_Login)(SH, UL, B *, UL);
  CK_RV (*C_Logout)(SH);
  CK_RV (*C_CreateObject)(SH, A *, UL, OH *);
  CK_RV (*C_CopyObject)(SH, OH, A *, UL, OH *);
  CK_RV (*C_DestroyObject)(SH, OH);
  CK_RV (*C_GetObjectSize)(SH, OH, UL *);
  CK_RV (*C_GetAttributeValue)(SH, OH, A *, UL);
  CK_RV (*C_SetAttributeValue)(SH, OH, A *, UL);
  CK_RV (*C_FindObjectsInit)(SH, A *, UL);
  CK_RV (*C_FindObjects)(SH, OH *, UL, UL *);
  CK_RV (*C_FindObjectsFinal)(SH);
  CK_RV (*C_EncryptInit)(SH, M *, OH);
  CK_RV (*C_Encrypt)(SH, B *, UL, B *, UL *);
  CK_RV (*C_EncryptUpdate)(SH, B *, UL, B *, UL *);
  CK_RV (*C_EncryptFinal)(SH, B *, UL *);
  CK_RV (*C_DecryptInit)(SH, M *, OH);
  CK_RV (*C_Decrypt)(SH, B *, UL, B *, UL *);
  CK_RV (*C_DecryptUpdate)(SH, B *, UL, B *, UL *);
  CK_RV (*C_DecryptFinal)(SH, B *, UL *);
  CK_RV (*C_DigestInit)(SH, M *);
  CK_RV (*C_Digest)(SH, B *, UL, B *, UL *);
  CK_RV (*C_DigestUpdate)(SH, B *, UL);
  CK_RV (*C_DigestKey)(SH, OH);
  CK_RV (*C_DigestFinal)(SH, B *, UL *);
  CK_RV (*C_SignInit)(SH, M *, OH);
  CK_RV (*C_Sign)(SH, B *, UL, B *, UL *);
  CK_RV (*C_SignUpdate)(SH, B *, UL);
  CK_RV (*C_SignFinal)(SH, B *, UL *);
  CK_RV (*C_SignRecoverInit)(SH, M *, OH);
  CK_RV (*C_SignRecover)(SH, B *, UL, B *, UL *);
  CK_RV (*C_VerifyInit)(SH, M *, OH);
  CK_RV (*C_Verify)(SH, B *, UL, B *, UL);
  CK_RV (*C_VerifyUpdate)(SH, B *, UL);
  CK_RV (*C_VerifyFinal)(SH, B *, UL);
  CK_RV (*C_VerifyRecoverInit)(SH, M *, OH);
  CK_RV (*C_VerifyRecover)(SH, B *, UL, B *, UL *);
  CK_RV (*C_DigestEncryptUpdate)(SH, B *, UL, B *, UL *);
  CK_RV (*C_DecryptDigestUpdate)(SH, B *, UL, B *, UL *);
  CK_RV (*C_SignEncryptUpdate)(SH, B *, UL, B *, UL *);
  CK_RV (*C_DecryptVerifyUpdate)(SH, B *, UL, B *, UL *);
  CK_RV (*C_GenerateKey)(SH, M *, A *, UL, OH *);
  CK_RV (*C_GenerateKeyPair)(SH, M *, A *, UL, A *, UL, OH *, OH *);
  CK_RV (*C_WrapKey)(SH, M *, OH, OH, B *, UL *);
  CK_RV (*C_UnwrapKey)(SH, M *, OH, B *, UL, A *, UL, OH *);
  CK_RV (*C_DeriveKey)(SH, M *, OH, A *, UL, OH *);
  CK_RV (*C_SeedRandom)(SH, B *, UL);
  CK_RV (*C_GenerateRandom)(SH, B *, UL);
  CK_RV (*C_GetFunctionStatus)(SH);
  CK_RV (*C_CancelFunction)(SH);
  CK_RV (*C_WaitForSlotEvent)(UL, UL *, void *);
  CK_RV (*C_GetInterfaceList)(CK_INTERFACE *, UL *);
  CK_RV (*C_GetInterface)(B *, CK_VERSION *, CK_INTERFACE **, UL);
  CK_RV (*C_LoginUser)(SH, UL, B *, UL, B *, UL);
  CK_RV (*C_SessionCancel)(SH, UL);
  CK_RV (*C_MessageEncryptInit)(SH, M *, OH);
  CK_RV (*C_EncryptMessage)(SH, void *, UL, B *, UL, B *, UL, B *, UL *);
  CK_RV (*C_EncryptMessageBegin)(SH, void *, UL, B *, UL);
  CK_RV (*C_EncryptMessageNext)(SH, void *, UL, B *, UL, B *, UL *, UL);
  CK_RV (*C_MessageEncryptFinal)(SH);
  CK_RV (*C_MessageDecryptInit)(SH, M *, OH);
  CK_RV (*C_DecryptMessage)(SH, void *, UL, B *, UL, B *, UL, B *, UL *);
  CK_RV (*C_DecryptMessageBegin)(SH, void *, UL, B *, UL);
  CK_RV (*C_DecryptMessageNext)(SH, void *, UL, B *, UL, B *, UL *, UL);
  CK_RV (*C_MessageDecryptFinal)(SH);
  CK_RV (*C_MessageSignInit)(SH, M *, OH);
  CK_RV (*C_SignMessage)(SH, void *, UL, B *, UL, B *, UL *);
  CK_RV (*C_SignMessageBegin)(SH, void *, UL);
  CK_RV (*C_SignMessageNext)(SH, void *, UL, B *, UL, B *, UL *);
  CK_RV (*C_MessageSignFinal)(SH);
  CK_RV (*C_MessageVerifyInit)(SH, M *, OH);
  CK_RV (*C_VerifyMessage)(SH, void *, UL, B *, UL, B *, UL);
  CK_RV (*C_VerifyMessageBegin)(SH, void *, UL);
  CK_RV (*C_VerifyMessageNext)(SH, void *, UL, B *, UL, B *, UL);
  CK_RV (*C_MessageVerifyFinal)(SH);
} F;

enum {
  OK = 0, SLOT_ID_INVALID = 0x3, GENERAL_ERROR = 0x5, ARGUMENTS_BAD = 0x7, NO_EVENT = 0x8,
  CANT_LOCK = 0xA, ATTRIBUTE_READ_ONLY = 0x10, ATTRIBUTE_SENSITIVE = 0x11,
  ATTRIBUTE_TYPE_INVALID = 0x12, ATTRIBUTE_VALUE_INVALID = 0x13, ACTION_PROHIBITED = 0x1B,
  DATA_LEN_RANGE = 0x21, DEVICE_REMOVED = 0x32, ENCRYPTED_DATA_INVALID = 0x40,
  ENCRYPTED_DATA_LEN_RANGE = 0x41, FUNCTION_NOT_PARALLEL = 0x51, FUNCTION_NOT_SUPPORTED = 0x54,
  KEY_HANDLE_INVALID = 0x60, KEY_TYPE_INCONSISTENT = 0x63, KEY_FUNCTION_NOT_PERMITTED = 0x68,
  MECHANISM_INVALID = 0x70, MECHANISM_PARAM_INVALID = 0x71, OBJECT_HANDLE_INVALID = 0x82,
  OPERATION_ACTIVE = 0x90, OPERATION_NOT_INITIALIZED = 0x91, PIN_INCORRECT = 0xA0,
  PIN_INVALID = 0xA1, PIN_LEN_RANGE = 0xA2, PIN_EXPIRED = 0xA3, SESSION_CLOSED = 0xB0,
  SESSION_HANDLE_INVALID = 0xB3, SESSION_PARALLEL_NOT_SUPPORTED = 0xB4,
  SESSION_READ_ONLY = 0xB5, SESSION_EXISTS = 0xB6, SESSION_READ_ONLY_EXISTS = 0xB7,
  SESSION_READ_WRITE_SO_EXISTS = 0xB8,
  SIGNATURE_INVALID = 0xC0, SIGNATURE_LEN_RANGE = 0xC1, TEMPLATE_INCOMPLETE = 0xD0,
  TEMPLATE_INCONSISTENT = 0xD1, UNWRAPPING_KEY_HANDLE_INVALID = 0xF0,
  USER_ALREADY_LOGGED_IN = 0x100, USER_NOT_LOGGED_IN = 0x101, USER_TYPE_INVALID = 0x103,
  USER_ANOTHER_ALREADY_LOGGED_IN = 0x104, WRAPPED_KEY_INVALID = 0x110,
  WRAPPED_KEY_LEN_RANGE = 0x112, WRAPPING_KEY_HANDLE_INVALID = 0x113,
  RANDOM_SEED_NOT_SUPPORTED = 0x120, BUFFER_TOO_SMALL = 0x150,
  CRYPTOKI_NOT_INITIALIZED = 0x190, CRYPTOKI_ALREADY_INITIALIZED = 0x191,
  OPERATION_CANCEL_FAILED = 0x202
};
#define UNAVAILABLE (~0UL)
#define CKF_RW_SESSION 2UL
#define CKF_SERIAL_SESSION 4UL
#define CKF_OS_LOCKING_OK 2UL
#define CKF_DONT_BLOCK 1UL
#define CKF_FIND_OBJECTS 0x40UL
#define CKF_ENCRYPT 0x100UL
#define CKU_SO 0UL
#define CKU_USER 1UL
#define CKA_CLASS 0x0UL
#define CKA_TOKEN 0x1UL
#define CKA_LABEL 0x3UL
#define CKA_VALUE 0x11UL
#define CKA_KEY_TYPE 0x100UL
#define CKA_ENCRYPT 0x104UL
#define CKA_DECRYPT 0x105UL
#define CKA_WRAP 0x106UL
#define CKA_UNWRAP 0x107UL
#define CKA_SIGN 0x108UL
#define CKA_VERIFY 0x10AUL
#define CKA_DERIVE 0x10CUL
#define CKA_VALUE_LEN 0x161UL
#define CKA_EXTRACTABLE 0x162UL
#define CKA_EC_PARAMS 0x180UL
#define CKA_EC_POINT 0x181UL
#define CKA_BOGUS 0x7FFF1234UL /* no such attribute type */
#define CKO_DATA 0UL
#define CKO_SECRET_KEY 4UL
#define CKK_AES 0x1FUL
#define CKM_EC_KEY_PAIR_GEN 0x1040UL
#define CKM_ECDSA_SHA256 0x1044UL
#define CKM_ECDH1_DERIVE 0x1050UL
#define CKM_AES_KEY_GEN 0x1080UL
#define CKM_AES_CBC_PAD 0x1085UL
#define CKM_AES_GCM 0x1087UL
#define CKM_AES_KEY_WRAP 0x2109UL
#define CKM_SHA256 0x250UL
#define CKM_BOGUS 0x7FFF4321UL /* no such mechanism */
#define CKS_RO_USER_FUNCTIONS 1UL
#define CKS_RW_PUBLIC_SESSION 2UL
#define CKS_RW_USER_FUNCTIONS 3UL
#define CKS_RW_SO_FUNCTIONS 4UL
#define BAD_HANDLE 0x7FFFFFF0UL /* a session or object handle never handed out */
#define BAD_SLOT 4242UL

static F *f;
static long checks, failures, interrupted;
/* In the concurrent phase another thread closes every session of the slot at any moment:
 * a call on a session may then also see CKR_SESSION_HANDLE_INVALID, or CKR_SESSION_CLOSED
 * ("the session was closed during the execution of the function", v3.0 5.1.2). */
static __thread int racy;
static __thread const char *phase = "";

static double mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
/* Reports a call that took long (each is bounded by the library's request timeout). The
 * macros evaluate the call as this function's last argument, after `start`. */
static __thread double started;
static int start_call(void) {
  started = mono();
  return 0;
}
static CK_RV timed_(int line, const char *call, CK_RV rv) {
  double took = mono() - started;
  if (took > 5.0) printf("slow [%s] line %d: %s took %.1f s\n", phase, line, call, took);
  return rv;
}
#define timed(line, text, call) (start_call(), timed_(line, text, (call)))

static CK_RV expect(int line, const char *call, CK_RV got, int on_session, size_t n,
                    const CK_RV *allowed) {
  __atomic_add_fetch(&checks, 1, __ATOMIC_RELAXED);
  for (size_t i = 0; i < n; i++)
    if (got == allowed[i]) return got;
  if (racy && on_session && (got == SESSION_HANDLE_INVALID || got == SESSION_CLOSED)) {
    __atomic_add_fetch(&interrupted, 1, __ATOMIC_RELAXED);
    return got;
  }
  __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
  char list[256] = "";
  for (size_t i = 0; i < n; i++)
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s0x%lx", i ? ", " : "", allowed[i]);
  fprintf(stderr, "MISMATCH [%s] line %d: %s returned 0x%lx, allowed {%s}\n", phase, line, call,
          got, list);
  return got;
}
#define RVS(...) sizeof((CK_RV[]){__VA_ARGS__}) / sizeof(CK_RV), (CK_RV[]){__VA_ARGS__}
/* X: a call without a session; S: a call on a session (see `racy`). */
#define X(call, ...) expect(__LINE__, #call, timed(__LINE__, #call, (call)), 0, RVS(__VA_ARGS__))
#define S(call, ...) expect(__LINE__, #call, timed(__LINE__, #call, (call)), 1, RVS(__VA_ARGS__))
/* A fact about the values a call wrote. */
#define FACT(cond)                                                                        \
  do {                                                                                    \
    __atomic_add_fetch(&checks, 1, __ATOMIC_RELAXED);                                     \
    if (!(cond)) {                                                                        \
      __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);                                 \
      fprintf(stderr, "MISMATCH [%s] line %d: %s does not hold\n", phase, __LINE__, #cond); \
    }                                                                                     \
  } while (0)

static const char *PSO_PIN = "Pso-Pass-123";
static const char *CO_FIRST = "Co-Initial-1";
static const char *CO_PIN = "Co-Changed-22";
static B P256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
static B TRUE_ = 1, FALSE_ = 0;
static UL slot = 0;

#define PIN(p) (B *)(p), (UL)strlen(p)

static CK_RV mutex_create(void **m) { (void)m; return OK; }
static CK_RV mutex_other(void *m) { (void)m; return OK; }

/* ------------------------------------------------------------------------------------------
 * Every function of CK_FUNCTION_LIST_3_0 before C_Initialize (and after C_Finalize): the
 * library's state is checked before anything else, so every function but C_GetFunctionList,
 * C_GetInterfaceList and C_GetInterface returns CKR_CRYPTOKI_NOT_INITIALIZED, whatever its
 * arguments. (The specification ranks CKR_CRYPTOKI_NOT_INITIALIZED with CKR_ARGUMENTS_BAD,
 * v3.0 5.1.6; this library documents that every call is refused before C_Initialize, and the
 * test holds it to that for null pointers too.) */
static void table_uninitialized(void) {
  const CK_RV NI = CRYPTOKI_NOT_INITIALIZED;
  B buf[64]; UL len = sizeof buf; UL count = 4; UL ids[4]; OH h = 0; SH s = 0;
  CK_INFO info; CK_SLOT_INFO si; CK_TOKEN_INFO ti; CK_MECHANISM_INFO mi; CK_SESSION_INFO ssi;
  M mech = {CKM_SHA256, NULL, 0};
  A attr = {CKA_LABEL, buf, 4};
  int dummy = 0;
  B pin[] = "Some-Pin-123";
  for (int pass = 0; pass < 2; pass++) {
    /* pass 0: plausible arguments; pass 1: every pointer null. */
    int z = pass;
#define P(p) (z ? NULL : (p))
    X(f->C_Finalize(NULL), NI);
    X(f->C_Finalize(P(&dummy)), NI);
    X(f->C_GetInfo(P(&info)), NI);
    X(f->C_GetSlotList(1, P(ids), P(&count)), NI);
    X(f->C_GetSlotList(0, NULL, P(&count)), NI);
    X(f->C_GetSlotInfo(0, P(&si)), NI);
    X(f->C_GetTokenInfo(0, P(&ti)), NI);
    X(f->C_GetMechanismList(0, P(ids), P(&count)), NI);
    X(f->C_GetMechanismInfo(0, CKM_SHA256, P(&mi)), NI);
    X(f->C_InitToken(0, P(pin), 12, P(buf)), NI);
    X(f->C_InitPIN(1, P(pin), 12), NI);
    X(f->C_SetPIN(1, P(pin), 12, P(pin), 12), NI);
    X(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, P(&s)), NI);
    X(f->C_CloseSession(1), NI);
    X(f->C_CloseAllSessions(0), NI);
    X(f->C_GetSessionInfo(1, P(&ssi)), NI);
    X(f->C_GetOperationState(1, P(buf), P(&len)), NI);
    X(f->C_SetOperationState(1, P(buf), 8, 0, 0), NI);
    X(f->C_Login(1, CKU_USER, P(pin), 12), NI);
    X(f->C_Logout(1), NI);
    X(f->C_CreateObject(1, P(&attr), 1, P(&h)), NI);
    X(f->C_CopyObject(1, 2, P(&attr), 1, P(&h)), NI);
    X(f->C_DestroyObject(1, 2), NI);
    X(f->C_GetObjectSize(1, 2, P(&len)), NI);
    X(f->C_GetAttributeValue(1, 2, P(&attr), 1), NI);
    X(f->C_SetAttributeValue(1, 2, P(&attr), 1), NI);
    X(f->C_FindObjectsInit(1, P(&attr), 1), NI);
    X(f->C_FindObjects(1, P(&h), 1, P(&count)), NI);
    X(f->C_FindObjectsFinal(1), NI);
    X(f->C_EncryptInit(1, P(&mech), 2), NI);
    X(f->C_Encrypt(1, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_EncryptUpdate(1, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_EncryptFinal(1, P(buf), P(&len)), NI);
    X(f->C_DecryptInit(1, P(&mech), 2), NI);
    X(f->C_Decrypt(1, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_DecryptUpdate(1, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_DecryptFinal(1, P(buf), P(&len)), NI);
    X(f->C_DigestInit(1, P(&mech)), NI);
    X(f->C_Digest(1, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_DigestUpdate(1, P(buf), 16), NI);
    X(f->C_DigestKey(1, 2), NI);
    X(f->C_DigestFinal(1, P(buf), P(&len)), NI);
    X(f->C_SignInit(1, P(&mech), 2), NI);
    X(f->C_Sign(1, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_SignUpdate(1, P(buf), 16), NI);
    X(f->C_SignFinal(1, P(buf), P(&len)), NI);
    X(f->C_SignRecoverInit(1, P(&mech), 2), NI);
    X(f->C_SignRecover(1, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_VerifyInit(1, P(&mech), 2), NI);
    X(f->C_Verify(1, P(buf), 16, P(buf), 16), NI);
    X(f->C_VerifyUpdate(1, P(buf), 16), NI);
    X(f->C_VerifyFinal(1, P(buf), 16), NI);
    X(f->C_VerifyRecoverInit(1, P(&mech), 2), NI);
    X(f->C_VerifyRecover(1, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_DigestEncryptUpdate(1, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_DecryptDigestUpdate(1, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_SignEncryptUpdate(1, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_DecryptVerifyUpdate(1, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_GenerateKey(1, P(&mech), P(&attr), 1, P(&h)), NI);
    X(f->C_GenerateKeyPair(1, P(&mech), P(&attr), 1, P(&attr), 1, P(&h), P(&h)), NI);
    X(f->C_WrapKey(1, P(&mech), 2, 3, P(buf), P(&len)), NI);
    X(f->C_UnwrapKey(1, P(&mech), 2, P(buf), 16, P(&attr), 1, P(&h)), NI);
    X(f->C_DeriveKey(1, P(&mech), 2, P(&attr), 1, P(&h)), NI);
    X(f->C_SeedRandom(1, P(buf), 16), NI);
    X(f->C_GenerateRandom(1, P(buf), 16), NI);
    X(f->C_GetFunctionStatus(1), NI);
    X(f->C_CancelFunction(1), NI);
    X(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, P(ids), NULL), NI);
    X(f->C_WaitForSlotEvent(0, P(ids), P(&dummy)), NI);
    X(f->C_LoginUser(1, CKU_USER, P(pin), 12, P(pin), 2), NI);
    X(f->C_SessionCancel(1, CKF_FIND_OBJECTS), NI);
    X(f->C_MessageEncryptInit(1, P(&mech), 2), NI);
    X(f->C_EncryptMessage(1, P(buf), 12, P(buf), 4, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_EncryptMessageBegin(1, P(buf), 12, P(buf), 4), NI);
    X(f->C_EncryptMessageNext(1, P(buf), 12, P(buf), 16, P(buf), P(&len), 0), NI);
    X(f->C_MessageEncryptFinal(1), NI);
    X(f->C_MessageDecryptInit(1, P(&mech), 2), NI);
    X(f->C_DecryptMessage(1, P(buf), 12, P(buf), 4, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_DecryptMessageBegin(1, P(buf), 12, P(buf), 4), NI);
    X(f->C_DecryptMessageNext(1, P(buf), 12, P(buf), 16, P(buf), P(&len), 0), NI);
    X(f->C_MessageDecryptFinal(1), NI);
    X(f->C_MessageSignInit(1, P(&mech), 2), NI);
    X(f->C_SignMessage(1, P(buf), 12, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_SignMessageBegin(1, P(buf), 12), NI);
    X(f->C_SignMessageNext(1, P(buf), 12, P(buf), 16, P(buf), P(&len)), NI);
    X(f->C_MessageSignFinal(1), NI);
    X(f->C_MessageVerifyInit(1, P(&mech), 2), NI);
    X(f->C_VerifyMessage(1, P(buf), 12, P(buf), 16, P(buf), 16), NI);
    X(f->C_VerifyMessageBegin(1, P(buf), 12), NI);
    X(f->C_VerifyMessageNext(1, P(buf), 12, P(buf), 16, P(buf), 16), NI);
    X(f->C_MessageVerifyFinal(1), NI);
#undef P
  }
}

/* The functions that work in every state: the function lists and interfaces (v3.0 5.4.4,
 * 5.4.5, 5.4.6). */
static void table_interfaces(void) {
  void *list = NULL;
  X(f->C_GetFunctionList(&list), OK);
  FACT(list != NULL && ((CK_VERSION *)list)->major == 2 && ((CK_VERSION *)list)->minor == 40);
  X(f->C_GetFunctionList(NULL), ARGUMENTS_BAD);
  UL n = 0;
  X(f->C_GetInterfaceList(NULL, NULL), ARGUMENTS_BAD);
  X(f->C_GetInterfaceList(NULL, &n), OK);
  FACT(n == 2);
  CK_INTERFACE ifs[3];
  UL short_n = 1;
  X(f->C_GetInterfaceList(ifs, &short_n), BUFFER_TOO_SMALL);
  FACT(short_n == 2);
  UL zero = 0;
  X(f->C_GetInterfaceList(ifs, &zero), BUFFER_TOO_SMALL);
  FACT(zero == 2);
  UL big = 3;
  X(f->C_GetInterfaceList(ifs, &big), OK);
  FACT(big == 2);
  CK_INTERFACE *i = NULL;
  X(f->C_GetInterface(NULL, NULL, NULL, 0), ARGUMENTS_BAD);
  X(f->C_GetInterface(NULL, NULL, &i, 0), OK);
  FACT(i != NULL && ((CK_VERSION *)i->pFunctionList)->major == 3);
  CK_VERSION v = {2, 40};
  X(f->C_GetInterface((B *)"PKCS 11", &v, &i, 0), OK);
  FACT(i != NULL && ((CK_VERSION *)i->pFunctionList)->minor == 40);
  CK_VERSION nine = {9, 9};
  /* No such interface: CKR_ARGUMENTS_BAD (v3.0 5.4.6 lists no other code for it). */
  X(f->C_GetInterface((B *)"PKCS 11", &nine, &i, 0), ARGUMENTS_BAD);
  X(f->C_GetInterface((B *)"Vendor", NULL, &i, 0), ARGUMENTS_BAD);
  X(f->C_GetInterface(NULL, NULL, &i, ~0UL), ARGUMENTS_BAD);
}

/* C_Initialize's arguments (v3.0 5.4.1), then initialization. */
static void initialize(void) {
  int reserved = 0;
  CK_C_INITIALIZE_ARGS a;
  memset(&a, 0, sizeof a);
  a.pReserved = &reserved;
  X(f->C_Initialize(&a), ARGUMENTS_BAD);
  memset(&a, 0, sizeof a);
  a.CreateMutex = mutex_create;
  X(f->C_Initialize(&a), ARGUMENTS_BAD); /* some but not all mutex functions */
  a.DestroyMutex = a.LockMutex = a.UnlockMutex = mutex_other;
  X(f->C_Initialize(&a), CANT_LOCK); /* only its own locking, and no CKF_OS_LOCKING_OK */
  memset(&a, 0, sizeof a);
  a.flags = CKF_OS_LOCKING_OK;
  X(f->C_Initialize(&a), OK);
  X(f->C_Initialize(NULL), CRYPTOKI_ALREADY_INITIALIZED);
  X(f->C_Initialize(&a), CRYPTOKI_ALREADY_INITIALIZED);
}

/* ------------------------------------------------------------------------------------------
 * Helpers for the live phases. */
static SH open_rw(void) {
  SH s = 0;
  S(f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), OK);
  return s;
}

static CK_RV gen_p256(SH s, B token, OH *pub, OH *priv) {
  M m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
  A pt[] = {{CKA_TOKEN, &token, 1}, {CKA_EC_PARAMS, P256, sizeof P256}, {CKA_VERIFY, &TRUE_, 1}};
  A st[] = {{CKA_TOKEN, &token, 1}, {CKA_SIGN, &TRUE_, 1}};
  return f->C_GenerateKeyPair(s, &m, pt, 3, st, 2, pub, priv);
}

static CK_RV gen_aes(SH s, B token, OH *key) {
  M m = {CKM_AES_KEY_GEN, NULL, 0};
  UL len = 32;
  A t[] = {{CKA_TOKEN, &token, 1}, {CKA_VALUE_LEN, &len, sizeof len}, {CKA_ENCRYPT, &TRUE_, 1},
           {CKA_DECRYPT, &TRUE_, 1}, {CKA_WRAP, &TRUE_, 1}, {CKA_UNWRAP, &TRUE_, 1}};
  return f->C_GenerateKey(s, &m, t, 6, key);
}

/* ------------------------------------------------------------------------------------------
 * Slots, tokens, mechanisms; token initialization and the PINs (v3.0 5.5, 5.6). Leaves the
 * Crypto Officer's PIN changed and nobody logged in. */
static void table_slots_and_login(void) {
  UL n = 0, ids[8];
  X(f->C_GetSlotList(1, NULL, NULL), ARGUMENTS_BAD);
  X(f->C_GetSlotList(1, ids, NULL), ARGUMENTS_BAD);
  X(f->C_GetSlotList(1, NULL, &n), OK);
  FACT(n == 1);
  UL zero = 0;
  X(f->C_GetSlotList(1, ids, &zero), BUFFER_TOO_SMALL);
  FACT(zero == 1);
  n = 8;
  X(f->C_GetSlotList(0, ids, &n), OK);
  FACT(n == 1);
  slot = ids[0];

  CK_SLOT_INFO si;
  X(f->C_GetSlotInfo(slot, NULL), ARGUMENTS_BAD);
  X(f->C_GetSlotInfo(BAD_SLOT, &si), SLOT_ID_INVALID);
  X(f->C_GetSlotInfo(slot, &si), OK);
  FACT(si.flags & 1); /* CKF_TOKEN_PRESENT */
  CK_TOKEN_INFO ti;
  X(f->C_GetTokenInfo(slot, NULL), ARGUMENTS_BAD);
  X(f->C_GetTokenInfo(BAD_SLOT, &ti), SLOT_ID_INVALID);
  X(f->C_GetTokenInfo(BAD_SLOT, NULL), SLOT_ID_INVALID);
  X(f->C_GetTokenInfo(slot, &ti), OK);

  UL mn = 0;
  X(f->C_GetMechanismList(slot, NULL, NULL), ARGUMENTS_BAD);
  X(f->C_GetMechanismList(BAD_SLOT, NULL, &mn), SLOT_ID_INVALID);
  X(f->C_GetMechanismList(slot, NULL, &mn), OK);
  FACT(mn > 1);
  UL mechs[256], one = 1;
  X(f->C_GetMechanismList(slot, mechs, &one), BUFFER_TOO_SMALL);
  FACT(one == mn);
  UL all = 256;
  X(f->C_GetMechanismList(slot, mechs, &all), OK);
  FACT(all == mn);
  CK_MECHANISM_INFO mi;
  X(f->C_GetMechanismInfo(slot, CKM_ECDSA_SHA256, NULL), ARGUMENTS_BAD);
  X(f->C_GetMechanismInfo(BAD_SLOT, CKM_ECDSA_SHA256, &mi), SLOT_ID_INVALID);
  X(f->C_GetMechanismInfo(slot, CKM_BOGUS, &mi), MECHANISM_INVALID);
  X(f->C_GetMechanismInfo(slot, CKM_ECDSA_SHA256, &mi), OK);

  /* C_InitToken (5.5.7). */
  B label[32];
  memset(label, ' ', sizeof label);
  memcpy(label, "Torture", 7);
  X(f->C_InitToken(BAD_SLOT, PIN(PSO_PIN), label), SLOT_ID_INVALID);
  X(f->C_InitToken(slot, NULL, 8, label), ARGUMENTS_BAD);
  X(f->C_InitToken(slot, PIN(PSO_PIN), NULL), ARGUMENTS_BAD);
  SH ro = 0;
  X(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro), OK);
  X(f->C_InitToken(slot, PIN(PSO_PIN), label), SESSION_EXISTS);
  X(f->C_CloseSession(ro), OK);
  X(f->C_InitToken(slot, PIN(PSO_PIN), label), OK);

  /* C_OpenSession (5.6.1). */
  SH s = 0;
  X(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, NULL), ARGUMENTS_BAD);
  X(f->C_OpenSession(BAD_SLOT, CKF_SERIAL_SESSION, NULL, NULL, &s), SLOT_ID_INVALID);
  X(f->C_OpenSession(slot, CKF_RW_SESSION, NULL, NULL, &s), SESSION_PARALLEL_NOT_SUPPORTED);
  X(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro), OK);
  s = open_rw();

  /* C_Login (5.6.8), C_InitPIN (5.6.x), C_Logout. */
  X(f->C_Login(BAD_HANDLE, CKU_SO, PIN(PSO_PIN)), SESSION_HANDLE_INVALID);
  X(f->C_Login(s, 99, PIN(PSO_PIN)), USER_TYPE_INVALID);
  X(f->C_Login(s, CKU_SO, NULL, 8), ARGUMENTS_BAD);
  X(f->C_Login(s, CKU_SO, PIN(PSO_PIN)), SESSION_READ_ONLY_EXISTS);
  X(f->C_CloseSession(ro), OK);
  X(f->C_Logout(s), USER_NOT_LOGGED_IN);
  X(f->C_InitPIN(s, PIN(CO_FIRST)), USER_NOT_LOGGED_IN);
  X(f->C_Login(s, CKU_SO, PIN(PSO_PIN)), OK);
  X(f->C_Login(s, CKU_SO, PIN(PSO_PIN)), USER_ALREADY_LOGGED_IN);
  X(f->C_Login(s, CKU_USER, PIN(CO_FIRST)), USER_ANOTHER_ALREADY_LOGGED_IN);
  X(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro), SESSION_READ_WRITE_SO_EXISTS);
  X(f->C_InitPIN(BAD_HANDLE, PIN(CO_FIRST)), SESSION_HANDLE_INVALID);
  X(f->C_InitPIN(BAD_HANDLE, NULL, 8), SESSION_HANDLE_INVALID);
  X(f->C_InitPIN(s, NULL, 8), ARGUMENTS_BAD);
  X(f->C_InitPIN(s, PIN(CO_FIRST)), OK);
  CK_SESSION_INFO ssi;
  X(f->C_GetSessionInfo(s, &ssi), OK);
  FACT(ssi.state == CKS_RW_SO_FUNCTIONS && ssi.slotID == slot);
  X(f->C_Logout(BAD_HANDLE), SESSION_HANDLE_INVALID);
  X(f->C_Logout(s), OK);
  X(f->C_Logout(s), USER_NOT_LOGGED_IN);
  /* One wrong PIN (the appliance counts them). */
  X(f->C_Login(s, CKU_USER, PIN("Wrong-Pin-99")), PIN_INCORRECT);
  X(f->C_Login(s, CKU_USER, PIN(CO_FIRST)), OK);
  /* The first Crypto Officer PIN must be changed before any key is used. */
  OH k = 0;
  X(gen_aes(s, 0, &k), PIN_EXPIRED);
  X(f->C_SetPIN(BAD_HANDLE, PIN(CO_FIRST), PIN(CO_PIN)), SESSION_HANDLE_INVALID);
  X(f->C_SetPIN(BAD_HANDLE, NULL, 8, PIN(CO_PIN)), SESSION_HANDLE_INVALID);
  X(f->C_SetPIN(s, NULL, 8, PIN(CO_PIN)), ARGUMENTS_BAD);
  X(f->C_SetPIN(s, PIN(CO_FIRST), NULL, 8), ARGUMENTS_BAD);
  X(f->C_SetPIN(s, PIN(CO_FIRST), PIN(CO_PIN)), OK);
  X(f->C_Logout(s), OK);
  X(f->C_CloseSession(s), OK);
  X(f->C_CloseSession(s), SESSION_HANDLE_INVALID);
}

/* ------------------------------------------------------------------------------------------
 * Everything a logged-in Crypto Officer's sessions do, with every required pointer null,
 * wrong lengths, invalid handles and wrong operation states. `s` is read/write, `ro` read-only;
 * `tag` makes this caller's objects its own. Run once alone, then by every thread at once. */
typedef struct { UL kdf, ulSharedDataLen; B *pSharedData; UL ulPublicDataLen; B *pPublicData; } ECDH1;

static void table_session(SH s, SH ro, const char *tag) {
  B data[48], out[512], small[8], sig[64], ct[64], wrapped[64], point[80];
  UL len = 0, n = 0, siglen = 0, ctlen = 0, wlen = 0;
  CK_RV rv;
  /* Every buffer starts defined: a step that found its session closed leaves the next one
   * the buffer as it was, and memcheck would blame the library for reading it. */
  memset(data, 0xA5, sizeof data);
  memset(out, 0, sizeof out);
  memset(small, 0, sizeof small);
  memset(sig, 0, sizeof sig);
  memset(ct, 0, sizeof ct);
  memset(wrapped, 0, sizeof wrapped);
  memset(point, 0, sizeof point);
  OH aes = 0, inner = 0, pub = 0, priv = 0, dobj = 0, h = 0, hs[16];
  UL vlen = 32, cls_data = CKO_DATA, cls_secret = CKO_SECRET_KEY, kt_aes = CKK_AES;
  M aesgen = {CKM_AES_KEY_GEN, NULL, 0}, ecgen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
  M bogus = {CKM_BOGUS, NULL, 0}, sha = {CKM_SHA256, NULL, 0};
  M ecdsa = {CKM_ECDSA_SHA256, NULL, 0}, kw = {CKM_AES_KEY_WRAP, NULL, 0};
  B iv[16] = {9}, iv8[8] = {9};
  M cbc = {CKM_AES_CBC_PAD, iv, 16}, cbc_short = {CKM_AES_CBC_PAD, iv8, 8};
  CK_GCM_PARAMS gp = {iv, 12, 96, NULL, 0, 128};
  M gcm_bad = {CKM_AES_GCM, &gp, sizeof gp - 1};
  M aesgen_param = {CKM_AES_KEY_GEN, iv, 16};

  /* Session information (5.6.4) and login state (5.6.8, 5.6.9). */
  CK_SESSION_INFO si;
  S(f->C_GetSessionInfo(s, NULL), ARGUMENTS_BAD);
  S(f->C_GetSessionInfo(BAD_HANDLE, &si), SESSION_HANDLE_INVALID);
  if (S(f->C_GetSessionInfo(s, &si), OK) == OK) FACT(si.state == CKS_RW_USER_FUNCTIONS);
  if (S(f->C_GetSessionInfo(ro, &si), OK) == OK) FACT(si.state == CKS_RO_USER_FUNCTIONS);
  S(f->C_Login(s, CKU_USER, PIN(CO_PIN)), USER_ALREADY_LOGGED_IN);
  S(f->C_Login(ro, CKU_USER, PIN(CO_PIN)), USER_ALREADY_LOGGED_IN);
  S(f->C_LoginUser(s, CKU_USER, PIN(CO_PIN), PIN("co")), USER_ALREADY_LOGGED_IN);
  S(f->C_LoginUser(BAD_HANDLE, CKU_USER, PIN(CO_PIN), PIN("co")), SESSION_HANDLE_INVALID);
  S(f->C_LoginUser(s, CKU_USER, NULL, 8, PIN("co")), ARGUMENTS_BAD);
  S(f->C_LoginUser(s, CKU_USER, PIN(CO_PIN), NULL, 2), ARGUMENTS_BAD);
  S(f->C_LoginUser(s, 99, PIN(CO_PIN), PIN("co")), USER_TYPE_INVALID);

  /* Key generation (5.14.1, 5.14.2). */
  A kt[] = {{CKA_VALUE_LEN, &vlen, sizeof vlen}, {CKA_ENCRYPT, &TRUE_, 1}, {CKA_DECRYPT, &TRUE_, 1},
            {CKA_WRAP, &TRUE_, 1}, {CKA_UNWRAP, &TRUE_, 1}, {CKA_TOKEN, &FALSE_, 1}};
  A kt_badlen[] = {{CKA_VALUE_LEN, &vlen, 4}};
  A kt_bogus[] = {{CKA_VALUE_LEN, &vlen, sizeof vlen}, {CKA_BOGUS, &TRUE_, 1}};
  S(f->C_GenerateKey(BAD_HANDLE, &aesgen, kt, 6, &aes), SESSION_HANDLE_INVALID);
  S(f->C_GenerateKey(BAD_HANDLE, NULL, NULL, 6, NULL), SESSION_HANDLE_INVALID);
  S(f->C_GenerateKey(s, NULL, kt, 6, &aes), ARGUMENTS_BAD);
  S(f->C_GenerateKey(s, &aesgen, NULL, 6, &aes), ARGUMENTS_BAD);
  S(f->C_GenerateKey(s, &aesgen, kt, 6, NULL), ARGUMENTS_BAD);
  S(f->C_GenerateKey(s, &bogus, kt, 6, &aes), MECHANISM_INVALID);
  S(f->C_GenerateKey(s, &aesgen_param, kt, 6, &aes), MECHANISM_PARAM_INVALID);
  S(f->C_GenerateKey(s, &aesgen, kt + 1, 5, &aes), TEMPLATE_INCOMPLETE);
  S(f->C_GenerateKey(s, &aesgen, kt_badlen, 1, &aes), ATTRIBUTE_VALUE_INVALID);
  S(f->C_GenerateKey(s, &aesgen, kt_bogus, 2, &aes), ATTRIBUTE_TYPE_INVALID);
  B yes = 1;
  A kt_token_ro[] = {{CKA_VALUE_LEN, &vlen, sizeof vlen}, {CKA_TOKEN, &yes, 1}};
  S(f->C_GenerateKey(ro, &aesgen, kt_token_ro, 2, &h), SESSION_READ_ONLY);
  S(f->C_GenerateKey(s, &aesgen, kt, 6, &aes), OK);
  A kt_inner[] = {{CKA_VALUE_LEN, &vlen, sizeof vlen}, {CKA_EXTRACTABLE, &TRUE_, 1},
                  {CKA_ENCRYPT, &TRUE_, 1}};
  S(f->C_GenerateKey(s, &aesgen, kt_inner, 3, &inner), OK);
  A pt[] = {{CKA_EC_PARAMS, P256, sizeof P256}, {CKA_VERIFY, &TRUE_, 1}};
  A st[] = {{CKA_SIGN, &TRUE_, 1}};
  S(f->C_GenerateKeyPair(BAD_HANDLE, &ecgen, pt, 2, st, 1, &pub, &priv), SESSION_HANDLE_INVALID);
  S(f->C_GenerateKeyPair(s, NULL, pt, 2, st, 1, &pub, &priv), ARGUMENTS_BAD);
  S(f->C_GenerateKeyPair(s, &ecgen, NULL, 2, st, 1, &pub, &priv), ARGUMENTS_BAD);
  S(f->C_GenerateKeyPair(s, &ecgen, pt, 2, NULL, 1, &pub, &priv), ARGUMENTS_BAD);
  S(f->C_GenerateKeyPair(s, &ecgen, pt, 2, st, 1, NULL, &priv), ARGUMENTS_BAD);
  S(f->C_GenerateKeyPair(s, &ecgen, pt, 2, st, 1, &pub, NULL), ARGUMENTS_BAD);
  S(f->C_GenerateKeyPair(s, &ecgen, pt + 1, 1, st, 1, &pub, &priv), TEMPLATE_INCOMPLETE);
  S(f->C_GenerateKeyPair(s, &bogus, pt, 2, st, 1, &pub, &priv), MECHANISM_INVALID);
  S(f->C_GenerateKeyPair(s, &ecgen, pt, 2, st, 1, &pub, &priv), OK);

  /* Objects (5.7). */
  A dt[] = {{CKA_CLASS, &cls_data, sizeof cls_data}, {CKA_TOKEN, &FALSE_, 1},
            {CKA_LABEL, (void *)tag, strlen(tag)}, {CKA_VALUE, data, 32}};
  A dt_badlen[] = {{CKA_CLASS, &cls_data, sizeof cls_data}, {CKA_TOKEN, &FALSE_, 4}};
  A dt_bogus[] = {{CKA_CLASS, &cls_data, sizeof cls_data}, {CKA_BOGUS, data, 1}};
  A dt_token[] = {{CKA_CLASS, &cls_data, sizeof cls_data}, {CKA_TOKEN, &yes, 1}};
  S(f->C_CreateObject(BAD_HANDLE, dt, 4, &dobj), SESSION_HANDLE_INVALID);
  S(f->C_CreateObject(s, NULL, 4, &dobj), ARGUMENTS_BAD);
  S(f->C_CreateObject(s, dt, 4, NULL), ARGUMENTS_BAD);
  S(f->C_CreateObject(s, NULL, 0, &dobj), TEMPLATE_INCOMPLETE);
  S(f->C_CreateObject(s, dt + 1, 3, &dobj), TEMPLATE_INCOMPLETE);
  S(f->C_CreateObject(s, dt_badlen, 2, &dobj), ATTRIBUTE_VALUE_INVALID);
  S(f->C_CreateObject(s, dt_bogus, 2, &dobj), ATTRIBUTE_TYPE_INVALID);
  S(f->C_CreateObject(ro, dt_token, 2, &dobj), SESSION_READ_ONLY);
  S(f->C_CreateObject(s, dt, 4, &dobj), OK);
  S(f->C_CopyObject(s, BAD_HANDLE, NULL, 0, &h), OBJECT_HANDLE_INVALID);
  S(f->C_CopyObject(s, dobj, NULL, 0, NULL), ARGUMENTS_BAD);
  S(f->C_CopyObject(s, dobj, NULL, 3, &h), ARGUMENTS_BAD);
  if (S(f->C_CopyObject(s, dobj, NULL, 0, &h), OK) == OK) {
    S(f->C_DestroyObject(s, h), OK);
    S(f->C_DestroyObject(s, h), OBJECT_HANDLE_INVALID);
  }
  S(f->C_DestroyObject(BAD_HANDLE, dobj), SESSION_HANDLE_INVALID);
  S(f->C_DestroyObject(s, BAD_HANDLE), OBJECT_HANDLE_INVALID);
  S(f->C_GetObjectSize(s, BAD_HANDLE, &len), OBJECT_HANDLE_INVALID);
  S(f->C_GetObjectSize(s, dobj, NULL), ARGUMENTS_BAD);
  S(f->C_GetObjectSize(BAD_HANDLE, dobj, &len), SESSION_HANDLE_INVALID);
  S(f->C_GetObjectSize(s, dobj, &len), OK);

  /* C_GetAttributeValue (5.7.5): per attribute, the value, its length, or
   * CK_UNAVAILABLE_INFORMATION; the call's code is the worst outcome. */
  A q = {CKA_VALUE, NULL, 0};
  S(f->C_GetAttributeValue(BAD_HANDLE, dobj, &q, 1), SESSION_HANDLE_INVALID);
  S(f->C_GetAttributeValue(s, BAD_HANDLE, &q, 1), OBJECT_HANDLE_INVALID);
  S(f->C_GetAttributeValue(s, dobj, NULL, 1), ARGUMENTS_BAD);
  if (S(f->C_GetAttributeValue(s, dobj, &q, 1), OK) == OK) FACT(q.ulValueLen == 32);
  A q_small = {CKA_VALUE, small, sizeof small};
  if (S(f->C_GetAttributeValue(s, dobj, &q_small, 1), BUFFER_TOO_SMALL) == BUFFER_TOO_SMALL)
    FACT(q_small.ulValueLen == UNAVAILABLE);
  A q_big = {CKA_VALUE, out, sizeof out};
  if (S(f->C_GetAttributeValue(s, dobj, &q_big, 1), OK) == OK)
    FACT(q_big.ulValueLen == 32 && memcmp(out, data, 32) == 0);
  A q_bogus[] = {{CKA_BOGUS, NULL, 0}, {CKA_VALUE, NULL, 0}};
  if (S(f->C_GetAttributeValue(s, dobj, q_bogus, 2), ATTRIBUTE_TYPE_INVALID) == ATTRIBUTE_TYPE_INVALID)
    FACT(q_bogus[0].ulValueLen == UNAVAILABLE && q_bogus[1].ulValueLen == 32);
  A q_secret = {CKA_VALUE, NULL, 0};
  if (S(f->C_GetAttributeValue(s, aes, &q_secret, 1), ATTRIBUTE_SENSITIVE) == ATTRIBUTE_SENSITIVE)
    FACT(q_secret.ulValueLen == UNAVAILABLE);
  A q_point = {CKA_EC_POINT, point, sizeof point};
  S(f->C_GetAttributeValue(s, pub, &q_point, 1), OK);

  /* C_SetAttributeValue (5.7.6). */
  A lbl = {CKA_LABEL, (void *)tag, strlen(tag)};
  A cls = {CKA_CLASS, &cls_secret, sizeof cls_secret};
  S(f->C_SetAttributeValue(BAD_HANDLE, dobj, &lbl, 1), SESSION_HANDLE_INVALID);
  S(f->C_SetAttributeValue(s, BAD_HANDLE, &lbl, 1), OBJECT_HANDLE_INVALID);
  S(f->C_SetAttributeValue(s, dobj, NULL, 1), ARGUMENTS_BAD);
  S(f->C_SetAttributeValue(s, dobj, &cls, 1), ATTRIBUTE_READ_ONLY);
  S(f->C_SetAttributeValue(s, dobj, &lbl, 1), OK);

  /* Finding objects (5.7.7-9) and C_SessionCancel (5.6.5). */
  S(f->C_FindObjects(s, hs, 16, &n), OPERATION_NOT_INITIALIZED);
  S(f->C_FindObjectsFinal(s), OPERATION_NOT_INITIALIZED);
  S(f->C_FindObjectsInit(BAD_HANDLE, &lbl, 1), SESSION_HANDLE_INVALID);
  S(f->C_FindObjectsInit(s, NULL, 1), ARGUMENTS_BAD);
  A bad_find = {CKA_TOKEN, &FALSE_, 3};
  S(f->C_FindObjectsInit(s, &bad_find, 1), ATTRIBUTE_VALUE_INVALID);
  S(f->C_FindObjectsInit(s, &lbl, 1), OK);
  S(f->C_FindObjectsInit(s, &lbl, 1), OPERATION_ACTIVE);
  S(f->C_FindObjects(BAD_HANDLE, hs, 16, &n), SESSION_HANDLE_INVALID);
  S(f->C_FindObjects(s, NULL, 16, &n), ARGUMENTS_BAD);
  S(f->C_FindObjects(s, hs, 16, NULL), ARGUMENTS_BAD);
  if (S(f->C_FindObjects(s, hs, 16, &n), OK) == OK) FACT(n == 1 && hs[0] == dobj);
  if (S(f->C_FindObjects(s, hs, 16, &n), OK) == OK) FACT(n == 0);
  S(f->C_FindObjectsFinal(BAD_HANDLE), SESSION_HANDLE_INVALID);
  S(f->C_FindObjectsFinal(s), OK);
  S(f->C_FindObjectsFinal(s), OPERATION_NOT_INITIALIZED);
  S(f->C_SessionCancel(BAD_HANDLE, CKF_FIND_OBJECTS), SESSION_HANDLE_INVALID);
  S(f->C_SessionCancel(s, 0), OK);
  S(f->C_FindObjectsInit(s, NULL, 0), OK);
  S(f->C_SessionCancel(s, CKF_FIND_OBJECTS), OK);
  S(f->C_FindObjects(s, hs, 16, &n), OPERATION_NOT_INITIALIZED);

  /* An invalid session ranks before bad arguments (v3.0 5.1.7: the codes of 5.1.2 come
   * before those of 5.1.6). */
  S(f->C_Encrypt(BAD_HANDLE, NULL, 17, NULL, NULL), SESSION_HANDLE_INVALID);
  S(f->C_EncryptUpdate(BAD_HANDLE, NULL, 17, NULL, NULL), SESSION_HANDLE_INVALID);
  S(f->C_EncryptFinal(BAD_HANDLE, NULL, NULL), SESSION_HANDLE_INVALID);
  S(f->C_Decrypt(BAD_HANDLE, NULL, 17, NULL, NULL), SESSION_HANDLE_INVALID);
  S(f->C_DecryptUpdate(BAD_HANDLE, NULL, 17, NULL, NULL), SESSION_HANDLE_INVALID);
  S(f->C_DecryptFinal(BAD_HANDLE, NULL, NULL), SESSION_HANDLE_INVALID);
  S(f->C_Digest(BAD_HANDLE, NULL, 17, NULL, NULL), SESSION_HANDLE_INVALID);
  S(f->C_DigestUpdate(BAD_HANDLE, NULL, 17), SESSION_HANDLE_INVALID);
  S(f->C_DigestFinal(BAD_HANDLE, NULL, NULL), SESSION_HANDLE_INVALID);
  S(f->C_Sign(BAD_HANDLE, NULL, 17, NULL, NULL), SESSION_HANDLE_INVALID);
  S(f->C_SignUpdate(BAD_HANDLE, NULL, 17), SESSION_HANDLE_INVALID);
  S(f->C_SignFinal(BAD_HANDLE, NULL, NULL), SESSION_HANDLE_INVALID);
  S(f->C_Verify(BAD_HANDLE, NULL, 17, NULL, 64), SESSION_HANDLE_INVALID);
  S(f->C_VerifyUpdate(BAD_HANDLE, NULL, 17), SESSION_HANDLE_INVALID);
  S(f->C_VerifyFinal(BAD_HANDLE, NULL, 64), SESSION_HANDLE_INVALID);
  S(f->C_SeedRandom(BAD_HANDLE, NULL, 8), SESSION_HANDLE_INVALID);
  S(f->C_GenerateRandom(BAD_HANDLE, NULL, 8), SESSION_HANDLE_INVALID);
  S(f->C_Login(BAD_HANDLE, CKU_USER, NULL, 8), SESSION_HANDLE_INVALID);
  S(f->C_CreateObject(BAD_HANDLE, NULL, 4, NULL), SESSION_HANDLE_INVALID);
  S(f->C_GetAttributeValue(BAD_HANDLE, dobj, NULL, 1), SESSION_HANDLE_INVALID);
  S(f->C_FindObjects(BAD_HANDLE, NULL, 16, NULL), SESSION_HANDLE_INVALID);
  S(f->C_WrapKey(BAD_HANDLE, NULL, aes, inner, NULL, NULL), SESSION_HANDLE_INVALID);
  S(f->C_UnwrapKey(BAD_HANDLE, NULL, aes, NULL, 40, NULL, 3, NULL), SESSION_HANDLE_INVALID);
  S(f->C_DeriveKey(BAD_HANDLE, NULL, aes, NULL, 3, NULL), SESSION_HANDLE_INVALID);

  /* Encryption (5.8): length convention (5.2), too small and oversize buffers; a call that
   * fails other than by CKR_BUFFER_TOO_SMALL ends the operation. */
  S(f->C_Encrypt(s, data, 17, out, &len), OPERATION_NOT_INITIALIZED);
  len = sizeof out;
  S(f->C_EncryptUpdate(s, data, 17, out, &len), OPERATION_NOT_INITIALIZED);
  len = sizeof out;
  S(f->C_EncryptFinal(s, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_EncryptInit(BAD_HANDLE, &cbc, aes), SESSION_HANDLE_INVALID);
  S(f->C_EncryptInit(s, &cbc, BAD_HANDLE), KEY_HANDLE_INVALID);
  S(f->C_EncryptInit(s, &bogus, aes), MECHANISM_INVALID);
  S(f->C_EncryptInit(s, &gcm_bad, aes), MECHANISM_PARAM_INVALID);
  S(f->C_EncryptInit(s, &cbc_short, aes), MECHANISM_PARAM_INVALID);
  /* A key of another type: the two codes of v3.0 5.8 for it. */
  S(f->C_EncryptInit(s, &cbc, pub), KEY_TYPE_INCONSISTENT, KEY_FUNCTION_NOT_PERMITTED);
  S(f->C_EncryptInit(s, &cbc, aes), OK);
  S(f->C_EncryptInit(s, &cbc, aes), OPERATION_ACTIVE);
  S(f->C_Encrypt(BAD_HANDLE, data, 17, NULL, &len), SESSION_HANDLE_INVALID);
  if (S(f->C_Encrypt(s, data, 17, NULL, &len), OK) == OK) FACT(len >= 32);
  len = 4;
  if (S(f->C_Encrypt(s, data, 17, out, &len), BUFFER_TOO_SMALL) == BUFFER_TOO_SMALL) FACT(len == 32);
  ctlen = sizeof ct;
  if (S(f->C_Encrypt(s, data, 17, ct, &ctlen), OK) == OK) FACT(ctlen == 32);
  S(f->C_Encrypt(s, data, 17, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_EncryptInit(s, &cbc, aes), OK);
  S(f->C_Encrypt(s, NULL, 17, out, &len), ARGUMENTS_BAD);
  len = sizeof out;
  S(f->C_Encrypt(s, data, 17, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_EncryptInit(s, &cbc, aes), OK);
  S(f->C_Encrypt(s, data, 17, out, NULL), ARGUMENTS_BAD);
  len = sizeof out;
  S(f->C_Encrypt(s, data, 17, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_EncryptInit(s, &cbc, aes), OK);
  len = sizeof out;
  S(f->C_EncryptUpdate(s, data, 17, NULL, NULL), ARGUMENTS_BAD);
  S(f->C_EncryptUpdate(s, data, 17, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_EncryptInit(s, &cbc, aes), OK);
  len = sizeof out;
  S(f->C_EncryptUpdate(s, data, 17, out, &len), OK);
  len = 0;
  S(f->C_EncryptFinal(s, NULL, &len), OK);
  len = sizeof out;
  S(f->C_EncryptFinal(s, out, &len), OK);
  S(f->C_EncryptFinal(s, out, &len), OPERATION_NOT_INITIALIZED);

  /* Decryption (5.9). */
  len = sizeof out;
  S(f->C_Decrypt(s, ct, 32, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_DecryptInit(s, &cbc, BAD_HANDLE), KEY_HANDLE_INVALID);
  S(f->C_DecryptInit(s, &bogus, aes), MECHANISM_INVALID);
  S(f->C_DecryptInit(s, &cbc, aes), OK);
  S(f->C_DecryptInit(s, &cbc, aes), OPERATION_ACTIVE);
  S(f->C_Decrypt(s, NULL, 32, out, &len), ARGUMENTS_BAD);
  S(f->C_Decrypt(s, ct, 32, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_DecryptInit(s, &cbc, aes), OK);
  /* Ciphertext of the wrong length: the two codes of v3.0 5.9 for it. */
  S(f->C_Decrypt(s, ct, 31, out, &len), ENCRYPTED_DATA_LEN_RANGE, ENCRYPTED_DATA_INVALID);
  S(f->C_DecryptInit(s, &cbc, aes), OK);
  if (S(f->C_Decrypt(s, ct, ctlen, NULL, &len), OK) == OK) FACT(len >= 17);
  len = 2;
  S(f->C_Decrypt(s, ct, ctlen, out, &len), BUFFER_TOO_SMALL);
  len = sizeof out;
  if (S(f->C_Decrypt(s, ct, ctlen, out, &len), OK) == OK)
    FACT(len == 17 && memcmp(out, data, 17) == 0);
  S(f->C_DecryptInit(s, &cbc, aes), OK);
  len = sizeof out;
  S(f->C_DecryptUpdate(s, ct, ctlen, out, &len), OK);
  len = sizeof out;
  S(f->C_DecryptFinal(s, out, NULL), ARGUMENTS_BAD);
  S(f->C_DecryptFinal(s, out, &len), OPERATION_NOT_INITIALIZED);

  /* Digests (5.10). */
  S(f->C_Digest(s, data, 32, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_DigestUpdate(s, data, 32), OPERATION_NOT_INITIALIZED);
  S(f->C_DigestFinal(s, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_DigestInit(BAD_HANDLE, &sha), SESSION_HANDLE_INVALID);
  S(f->C_DigestInit(s, &bogus), MECHANISM_INVALID);
  S(f->C_DigestInit(s, &sha), OK);
  S(f->C_DigestInit(s, &sha), OPERATION_ACTIVE);
  /* A null mechanism asks to end the active operation (v3.0 5.10): done, or refused with
   * CKR_OPERATION_CANCEL_FAILED. */
  rv = S(f->C_DigestInit(s, NULL), OK, OPERATION_CANCEL_FAILED);
  if (rv == OK) S(f->C_DigestInit(s, &sha), OK);
  if (S(f->C_Digest(s, data, 32, NULL, &len), OK) == OK) FACT(len == 32);
  len = 16;
  if (S(f->C_Digest(s, data, 32, out, &len), BUFFER_TOO_SMALL) == BUFFER_TOO_SMALL) FACT(len == 32);
  len = sizeof out;
  if (S(f->C_Digest(s, data, 32, out, &len), OK) == OK) FACT(len == 32);
  S(f->C_Digest(s, data, 32, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_DigestInit(s, &sha), OK);
  S(f->C_DigestUpdate(s, NULL, 0), OK);
  S(f->C_DigestUpdate(s, data, 32), OK);
  S(f->C_DigestKey(s, aes), FUNCTION_NOT_SUPPORTED);
  S(f->C_DigestKey(BAD_HANDLE, aes), SESSION_HANDLE_INVALID);
  len = 0;
  S(f->C_DigestFinal(s, NULL, &len), OK);
  len = sizeof out;
  S(f->C_DigestFinal(s, out, &len), OK);
  S(f->C_DigestInit(s, &sha), OK);
  S(f->C_DigestUpdate(s, NULL, 5), ARGUMENTS_BAD);
  S(f->C_DigestUpdate(s, data, 5), OPERATION_NOT_INITIALIZED);

  /* Signatures (5.11, 5.13). */
  S(f->C_Sign(s, data, 32, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_SignUpdate(s, data, 32), OPERATION_NOT_INITIALIZED);
  S(f->C_SignFinal(s, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_Verify(s, data, 32, sig, 64), OPERATION_NOT_INITIALIZED);
  S(f->C_VerifyUpdate(s, data, 32), OPERATION_NOT_INITIALIZED);
  S(f->C_VerifyFinal(s, sig, 64), OPERATION_NOT_INITIALIZED);
  S(f->C_SignInit(BAD_HANDLE, &ecdsa, priv), SESSION_HANDLE_INVALID);
  S(f->C_SignInit(s, &ecdsa, BAD_HANDLE), KEY_HANDLE_INVALID);
  S(f->C_SignInit(s, &bogus, priv), MECHANISM_INVALID);
  S(f->C_SignInit(s, &ecdsa, pub), KEY_TYPE_INCONSISTENT, KEY_FUNCTION_NOT_PERMITTED);
  S(f->C_SignInit(s, &ecdsa, aes), KEY_TYPE_INCONSISTENT, KEY_FUNCTION_NOT_PERMITTED);
  S(f->C_SignInit(s, &ecdsa, priv), OK);
  S(f->C_SignInit(s, &ecdsa, priv), OPERATION_ACTIVE);
  if (S(f->C_Sign(s, data, 32, NULL, &len), OK) == OK) FACT(len == 64);
  len = 10;
  if (S(f->C_Sign(s, data, 32, out, &len), BUFFER_TOO_SMALL) == BUFFER_TOO_SMALL) FACT(len == 64);
  siglen = sizeof sig;
  if (S(f->C_Sign(s, data, 32, sig, &siglen), OK) == OK) FACT(siglen == 64);
  S(f->C_Sign(s, data, 32, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_SignInit(s, &ecdsa, priv), OK);
  S(f->C_Sign(s, NULL, 32, sig, &siglen), ARGUMENTS_BAD);
  S(f->C_Sign(s, data, 32, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_SignInit(s, &ecdsa, priv), OK);
  S(f->C_SignUpdate(s, data, 16), OK);
  S(f->C_SignUpdate(s, data + 16, 16), OK);
  len = 0;
  if (S(f->C_SignFinal(s, NULL, &len), OK) == OK) FACT(len == 64);
  len = 1;
  S(f->C_SignFinal(s, out, &len), BUFFER_TOO_SMALL);
  len = sizeof out;
  S(f->C_SignFinal(s, out, &len), OK);
  S(f->C_SignInit(s, &ecdsa, priv), OK);
  S(f->C_SignUpdate(s, NULL, 16), ARGUMENTS_BAD);
  S(f->C_SignFinal(s, out, &len), OPERATION_NOT_INITIALIZED);
  /* The library answers a single-part length query from the *Init answer; once an update
     moved the operation on, the appliance answers (and the single-part call is refused). */
  S(f->C_SignInit(s, &ecdsa, priv), OK);
  S(f->C_Sign(s, data, 32, NULL, NULL), ARGUMENTS_BAD);
  S(f->C_SignFinal(s, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_SignInit(s, &ecdsa, priv), OK);
  S(f->C_SignUpdate(s, data, 16), OK);
  len = 0;
  S(f->C_Sign(s, data, 32, NULL, &len), OPERATION_ACTIVE);
  len = sizeof out;
  S(f->C_SignFinal(s, out, &len), OPERATION_NOT_INITIALIZED);
  {
    M gcm = {CKM_AES_GCM, &gp, sizeof gp};
    UL glen = 0, clen;
    S(f->C_EncryptInit(s, &gcm, aes), OK);
    if (S(f->C_Encrypt(s, data, 17, NULL, &glen), OK) == OK) FACT(glen == 17 + 16);
    /* A query again, then the call: the same length. */
    if (S(f->C_Encrypt(s, data, 17, NULL, &glen), OK) == OK) FACT(glen == 33);
    clen = sizeof ct;
    if (S(f->C_Encrypt(s, data, 17, ct, &clen), OK) == OK) FACT(clen == 33);
    S(f->C_DecryptInit(s, &gcm, aes), OK);
    if (S(f->C_Decrypt(s, ct, 33, NULL, &glen), OK) == OK) FACT(glen == 17);
    glen = sizeof out;
    if (S(f->C_Decrypt(s, ct, 33, out, &glen), OK) == OK) FACT(glen == 17 && !memcmp(out, data, 17));
  }
  S(f->C_VerifyInit(BAD_HANDLE, &ecdsa, pub), SESSION_HANDLE_INVALID);
  S(f->C_VerifyInit(s, &ecdsa, BAD_HANDLE), KEY_HANDLE_INVALID);
  S(f->C_VerifyInit(s, &ecdsa, aes), KEY_TYPE_INCONSISTENT, KEY_FUNCTION_NOT_PERMITTED);
  S(f->C_VerifyInit(s, &ecdsa, pub), OK);
  S(f->C_VerifyInit(s, &ecdsa, pub), OPERATION_ACTIVE);
  S(f->C_Verify(s, data, 32, sig, 64), OK);
  S(f->C_VerifyInit(s, &ecdsa, pub), OK);
  sig[5] ^= 1;
  S(f->C_Verify(s, data, 32, sig, 64), SIGNATURE_INVALID);
  sig[5] ^= 1;
  S(f->C_VerifyInit(s, &ecdsa, pub), OK);
  /* A signature of the wrong length: either code (v3.0 5.13.2). */
  S(f->C_Verify(s, data, 32, sig, 10), SIGNATURE_LEN_RANGE, SIGNATURE_INVALID);
  S(f->C_VerifyInit(s, &ecdsa, pub), OK);
  S(f->C_Verify(s, NULL, 32, sig, 64), ARGUMENTS_BAD);
  S(f->C_Verify(s, data, 32, sig, 64), OPERATION_NOT_INITIALIZED);
  S(f->C_VerifyInit(s, &ecdsa, pub), OK);
  S(f->C_Verify(s, data, 32, NULL, 64), ARGUMENTS_BAD);
  S(f->C_VerifyInit(s, &ecdsa, pub), OK);
  S(f->C_VerifyUpdate(s, data, 16), OK);
  S(f->C_VerifyUpdate(s, data + 16, 16), OK);
  S(f->C_VerifyFinal(s, sig, 64), OK);
  S(f->C_VerifyInit(s, &ecdsa, pub), OK);
  S(f->C_VerifyUpdate(s, data, 32), OK);
  S(f->C_VerifyFinal(s, NULL, 64), ARGUMENTS_BAD);
  S(f->C_VerifyFinal(s, sig, 64), OPERATION_NOT_INITIALIZED);

  /* Once an operation with a session key has completed, the library answers the same init
   * itself (the appliance said it would succeed again) and sends it with the next call of the
   * session: every answer must be the one the appliance would have given. */
  S(f->C_SignInit(s, &ecdsa, priv), OK);
  siglen = sizeof sig;
  S(f->C_Sign(s, data, 32, sig, &siglen), OK);
  S(f->C_SignInit(s, &ecdsa, priv), OK);
  S(f->C_SignInit(s, &ecdsa, priv), OPERATION_ACTIVE);
  len = 0;
  if (S(f->C_Sign(s, data, 32, NULL, &len), OK) == OK) FACT(len == 64);
  len = sizeof out;
  if (S(f->C_Sign(s, data, 32, out, &len), OK) == OK) FACT(len == 64);
  S(f->C_Sign(s, data, 32, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_SignInit(s, &ecdsa, priv), OK);
  S(f->C_GetSessionInfo(s, &si), OK);
  S(f->C_SignUpdate(s, data, 16), OK);
  S(f->C_SignUpdate(s, data + 16, 16), OK);
  len = sizeof out;
  S(f->C_SignFinal(s, out, &len), OK);
  S(f->C_SignInit(s, &ecdsa, priv), OK);
  S(f->C_Sign(s, NULL, 32, out, &len), ARGUMENTS_BAD);
  S(f->C_Sign(s, data, 32, out, &len), OPERATION_NOT_INITIALIZED);
  S(f->C_VerifyInit(s, &ecdsa, pub), OK);
  S(f->C_Verify(s, data, 32, sig, 64), OK);
  S(f->C_VerifyInit(s, &ecdsa, pub), OK);
  sig[5] ^= 1;
  S(f->C_Verify(s, data, 32, sig, 64), SIGNATURE_INVALID);
  sig[5] ^= 1;
  S(f->C_VerifyInit(s, &ecdsa, pub), OK);
  S(f->C_Verify(s, data, 32, sig, 64), OK);
  S(f->C_VerifyInit(s, &ecdsa, pub), OK);
  S(f->C_Verify(s, data, 32, sig, 64), OK);
  {
    /* The key destroyed between the init and the call: the same answer whether the appliance
     * or the library answered the init (the library sends the init it owes first). */
    OH kp = 0, kq = 0;
    UL l1 = sizeof out, l2 = sizeof out;
    CK_RV r1, r2;
    S(gen_p256(s, 0, &kp, &kq), OK);
    S(f->C_SignInit(s, &ecdsa, kq), OK);
    S(f->C_DestroyObject(s, kq), OK);
    r1 = f->C_Sign(s, data, 32, out, &l1);
    S(gen_p256(s, 0, &kp, &kq), OK);
    S(f->C_SignInit(s, &ecdsa, kq), OK);
    S(f->C_Sign(s, data, 32, out, &l2), OK);
    S(f->C_SignInit(s, &ecdsa, kq), OK);
    S(f->C_DestroyObject(s, kq), OK);
    l2 = sizeof out;
    r2 = f->C_Sign(s, data, 32, out, &l2);
    /* (With another thread closing every session, either may find its session closed.) */
    FACT(r1 == r2 || (racy && (r1 == SESSION_HANDLE_INVALID || r1 == SESSION_CLOSED ||
                               r2 == SESSION_HANDLE_INVALID || r2 == SESSION_CLOSED)));
    if (r1 != OK) S(f->C_SignInit(s, NULL, kq), OK, OPERATION_CANCEL_FAILED);
  }

  {
    /* The same with ciphers: a GCM init with a new IV of the same length (or new additional
     * data) is answered here; one whose parameter init would judge differently is not. */
    B iv2[12] = {7}, aad[5] = {1, 2, 3, 4, 5}, ct2[64];
    CK_GCM_PARAMS g1 = {iv, 12, 96, NULL, 0, 128}, g2 = {iv2, 12, 96, aad, 5, 128};
    CK_GCM_PARAMS g_tag96 = {iv2, 12, 96, NULL, 0, 96}, g_badbits = {iv2, 12, 95, NULL, 0, 128};
    M m1 = {CKM_AES_GCM, &g1, sizeof g1}, m2 = {CKM_AES_GCM, &g2, sizeof g2};
    M m_tag96 = {CKM_AES_GCM, &g_tag96, sizeof g_tag96};
    M m_badbits = {CKM_AES_GCM, &g_badbits, sizeof g_badbits};
    M cbc2 = {CKM_AES_CBC_PAD, iv2, 16};
    UL l = sizeof ct, l2;
    S(f->C_EncryptInit(s, &m1, aes), OK);
    S(f->C_Encrypt(s, data, 17, ct, &l), OK);
    S(f->C_EncryptInit(s, &m2, aes), OK);
    S(f->C_EncryptInit(s, &m2, aes), OPERATION_ACTIVE);
    l2 = 0;
    if (S(f->C_Encrypt(s, data, 17, NULL, &l2), OK) == OK) FACT(l2 == 33);
    l2 = sizeof ct2;
    if (S(f->C_Encrypt(s, data, 17, ct2, &l2), OK) == OK) FACT(l2 == 33 && memcmp(ct, ct2, 33));
    S(f->C_DecryptInit(s, &m2, aes), OK);
    l = sizeof out;
    if (S(f->C_Decrypt(s, ct2, 33, out, &l), OK) == OK) FACT(l == 17 && !memcmp(out, data, 17));
    S(f->C_DecryptInit(s, &m1, aes), OK);
    l = sizeof out;
    S(f->C_Decrypt(s, ct2, 33, out, &l), ENCRYPTED_DATA_INVALID);
    S(f->C_Decrypt(s, ct2, 33, out, &l), OPERATION_NOT_INITIALIZED);
    S(f->C_DecryptInit(s, &m1, aes), OK);
    l = sizeof out;
    if (S(f->C_Decrypt(s, ct, 33, out, &l), OK) == OK) FACT(l == 17 && !memcmp(out, data, 17));
    /* Another tag length, a parameter init refuses: the appliance answers, at init. */
    S(f->C_EncryptInit(s, &m_tag96, aes), OK);
    l = 0;
    if (S(f->C_Encrypt(s, data, 17, NULL, &l), OK) == OK) FACT(l == 17 + 12);
    l = sizeof ct2;
    S(f->C_Encrypt(s, data, 17, ct2, &l), OK);
    S(f->C_EncryptInit(s, &m_badbits, aes), MECHANISM_PARAM_INVALID);
    S(f->C_Encrypt(s, data, 17, ct2, &l), OPERATION_NOT_INITIALIZED);
    /* Multi-part CBC: the operation ends at the final call only. */
    S(f->C_EncryptInit(s, &cbc, aes), OK);
    l = sizeof ct;
    S(f->C_EncryptUpdate(s, data, 20, ct, &l), OK);
    l2 = sizeof ct - l;
    S(f->C_EncryptFinal(s, ct + l, &l2), OK);
    S(f->C_EncryptInit(s, &cbc2, aes), OK);
    l = sizeof ct2;
    if (S(f->C_EncryptUpdate(s, data, 20, ct2, &l), OK) == OK) FACT(l == 16);
    S(f->C_EncryptInit(s, &cbc2, aes), OPERATION_ACTIVE);
    l2 = sizeof ct2 - l;
    if (S(f->C_EncryptFinal(s, ct2 + l, &l2), OK) == OK) FACT(l + l2 == 32);
    S(f->C_DecryptInit(s, &cbc2, aes), OK);
    l = sizeof out;
    if (S(f->C_Decrypt(s, ct2, 32, out, &l), OK) == OK) FACT(l == 20 && !memcmp(out, data, 20));
    {
      /* Additional data longer than a request may carry: the same answer whether or not an
       * earlier init of the key was said repeatable (the appliance answers both). */
      static B big[1100000];
      CK_GCM_PARAMS g_big = {iv2, 12, 96, big, sizeof big, 128};
      M m_big = {CKM_AES_GCM, &g_big, sizeof g_big};
      OH tok = 0;
      CK_RV r_token = OK, r_session;
      if (S(gen_aes(s, 1, &tok), OK) == OK) {
        r_token = f->C_EncryptInit(s, &m_big, tok);
        if (r_token == OK) f->C_EncryptInit(s, NULL, tok);
        S(f->C_DestroyObject(s, tok), OK);
      }
      S(f->C_EncryptInit(s, &m1, aes), OK);
      l = sizeof ct;
      S(f->C_Encrypt(s, data, 17, ct, &l), OK);
      r_session = f->C_EncryptInit(s, &m_big, aes);
      FACT(r_session == r_token || (racy && (r_session == SESSION_HANDLE_INVALID ||
                                             r_session == SESSION_CLOSED)));
      if (r_session == OK) {
        l = sizeof ct;
        f->C_Encrypt(s, data, 17, ct, &l);
      }
    }
  }

  /* Functions this library documents as not offered: with a valid session, exactly
   * CKR_FUNCTION_NOT_SUPPORTED. */
  S(f->C_SignRecoverInit(s, &ecdsa, priv), FUNCTION_NOT_SUPPORTED);
  len = sizeof out;
  S(f->C_SignRecover(s, data, 32, out, &len), FUNCTION_NOT_SUPPORTED);
  S(f->C_VerifyRecoverInit(s, &ecdsa, pub), FUNCTION_NOT_SUPPORTED);
  S(f->C_VerifyRecover(s, sig, 64, out, &len), FUNCTION_NOT_SUPPORTED);
  S(f->C_DigestEncryptUpdate(s, data, 16, out, &len), FUNCTION_NOT_SUPPORTED);
  S(f->C_DecryptDigestUpdate(s, data, 16, out, &len), FUNCTION_NOT_SUPPORTED);
  S(f->C_SignEncryptUpdate(s, data, 16, out, &len), FUNCTION_NOT_SUPPORTED);
  S(f->C_DecryptVerifyUpdate(s, data, 16, out, &len), FUNCTION_NOT_SUPPORTED);
  S(f->C_GetOperationState(s, NULL, &len), FUNCTION_NOT_SUPPORTED);
  S(f->C_SetOperationState(s, data, 16, 0, 0), FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageEncryptInit(s, &cbc, aes), FUNCTION_NOT_SUPPORTED);
  S(f->C_EncryptMessage(s, &gp, sizeof gp, data, 4, data, 16, out, &len), FUNCTION_NOT_SUPPORTED);
  S(f->C_EncryptMessageBegin(s, &gp, sizeof gp, data, 4), FUNCTION_NOT_SUPPORTED);
  S(f->C_EncryptMessageNext(s, &gp, sizeof gp, data, 16, out, &len, 0), FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageEncryptFinal(s), FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageDecryptInit(s, &cbc, aes), FUNCTION_NOT_SUPPORTED);
  S(f->C_DecryptMessage(s, &gp, sizeof gp, data, 4, data, 16, out, &len), FUNCTION_NOT_SUPPORTED);
  S(f->C_DecryptMessageBegin(s, &gp, sizeof gp, data, 4), FUNCTION_NOT_SUPPORTED);
  S(f->C_DecryptMessageNext(s, &gp, sizeof gp, data, 16, out, &len, 0), FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageDecryptFinal(s), FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageSignInit(s, &ecdsa, priv), FUNCTION_NOT_SUPPORTED);
  S(f->C_SignMessage(s, NULL, 0, data, 16, out, &len), FUNCTION_NOT_SUPPORTED);
  S(f->C_SignMessageBegin(s, NULL, 0), FUNCTION_NOT_SUPPORTED);
  S(f->C_SignMessageNext(s, NULL, 0, data, 16, out, &len), FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageSignFinal(s), FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageVerifyInit(s, &ecdsa, pub), FUNCTION_NOT_SUPPORTED);
  S(f->C_VerifyMessage(s, NULL, 0, data, 16, sig, 64), FUNCTION_NOT_SUPPORTED);
  S(f->C_VerifyMessageBegin(s, NULL, 0), FUNCTION_NOT_SUPPORTED);
  S(f->C_VerifyMessageNext(s, NULL, 0, data, 16, sig, 64), FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageVerifyFinal(s), FUNCTION_NOT_SUPPORTED);
  /* With an invalid session a stub may answer either way: v3.0 5.1.7 ranks
   * CKR_SESSION_HANDLE_INVALID first, and 5.1.6 describes stubs that only return
   * CKR_FUNCTION_NOT_SUPPORTED. */
  S(f->C_SignRecoverInit(BAD_HANDLE, &ecdsa, priv), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_SignRecover(BAD_HANDLE, data, 32, out, &len), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_VerifyRecoverInit(BAD_HANDLE, &ecdsa, pub), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_VerifyRecover(BAD_HANDLE, sig, 64, out, &len), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_DigestEncryptUpdate(BAD_HANDLE, data, 16, out, &len), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_DecryptDigestUpdate(BAD_HANDLE, data, 16, out, &len), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_SignEncryptUpdate(BAD_HANDLE, data, 16, out, &len), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_DecryptVerifyUpdate(BAD_HANDLE, data, 16, out, &len), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_GetOperationState(BAD_HANDLE, NULL, &len), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_SetOperationState(BAD_HANDLE, data, 16, 0, 0), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageEncryptInit(BAD_HANDLE, &cbc, aes), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_EncryptMessage(BAD_HANDLE, NULL, 0, NULL, 0, NULL, 0, NULL, NULL), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_EncryptMessageBegin(BAD_HANDLE, NULL, 0, NULL, 0), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_EncryptMessageNext(BAD_HANDLE, NULL, 0, NULL, 0, NULL, NULL, 0), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageEncryptFinal(BAD_HANDLE), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageDecryptInit(BAD_HANDLE, NULL, 0), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_DecryptMessage(BAD_HANDLE, NULL, 0, NULL, 0, NULL, 0, NULL, NULL), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_DecryptMessageBegin(BAD_HANDLE, NULL, 0, NULL, 0), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_DecryptMessageNext(BAD_HANDLE, NULL, 0, NULL, 0, NULL, NULL, 0), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageDecryptFinal(BAD_HANDLE), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageSignInit(BAD_HANDLE, NULL, 0), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_SignMessage(BAD_HANDLE, NULL, 0, NULL, 0, NULL, NULL), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_SignMessageBegin(BAD_HANDLE, NULL, 0), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_SignMessageNext(BAD_HANDLE, NULL, 0, NULL, 0, NULL, NULL), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageSignFinal(BAD_HANDLE), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageVerifyInit(BAD_HANDLE, NULL, 0), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_VerifyMessage(BAD_HANDLE, NULL, 0, NULL, 0, NULL, 0), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_VerifyMessageBegin(BAD_HANDLE, NULL, 0), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_VerifyMessageNext(BAD_HANDLE, NULL, 0, NULL, 0, NULL, 0), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  S(f->C_MessageVerifyFinal(BAD_HANDLE), SESSION_HANDLE_INVALID, FUNCTION_NOT_SUPPORTED);
  /* The legacy parallel functions (v3.0 5.17): CKR_FUNCTION_NOT_PARALLEL. */
  S(f->C_GetFunctionStatus(s), FUNCTION_NOT_PARALLEL);
  S(f->C_CancelFunction(s), FUNCTION_NOT_PARALLEL);
  S(f->C_GetFunctionStatus(BAD_HANDLE), SESSION_HANDLE_INVALID);
  S(f->C_CancelFunction(BAD_HANDLE), SESSION_HANDLE_INVALID);

  /* Wrapping and unwrapping (5.14.3, 5.14.4). */
  S(f->C_WrapKey(BAD_HANDLE, &kw, aes, inner, wrapped, &wlen), SESSION_HANDLE_INVALID);
  S(f->C_WrapKey(s, NULL, aes, inner, wrapped, &wlen), ARGUMENTS_BAD);
  S(f->C_WrapKey(s, &kw, aes, inner, wrapped, NULL), ARGUMENTS_BAD);
  S(f->C_WrapKey(s, &kw, BAD_HANDLE, inner, NULL, &wlen), WRAPPING_KEY_HANDLE_INVALID);
  S(f->C_WrapKey(s, &kw, aes, BAD_HANDLE, NULL, &wlen), KEY_HANDLE_INVALID);
  if (S(f->C_WrapKey(s, &kw, aes, inner, NULL, &wlen), OK) == OK) FACT(wlen == 40);
  wlen = 8;
  if (S(f->C_WrapKey(s, &kw, aes, inner, wrapped, &wlen), BUFFER_TOO_SMALL) == BUFFER_TOO_SMALL)
    FACT(wlen == 40);
  wlen = sizeof wrapped;
  if (S(f->C_WrapKey(s, &kw, aes, inner, wrapped, &wlen), OK) == OK) FACT(wlen == 40);
  A ut[] = {{CKA_CLASS, &cls_secret, sizeof cls_secret}, {CKA_KEY_TYPE, &kt_aes, sizeof kt_aes},
            {CKA_ENCRYPT, &TRUE_, 1}};
  S(f->C_UnwrapKey(BAD_HANDLE, &kw, aes, wrapped, 40, ut, 3, &h), SESSION_HANDLE_INVALID);
  S(f->C_UnwrapKey(s, NULL, aes, wrapped, 40, ut, 3, &h), ARGUMENTS_BAD);
  S(f->C_UnwrapKey(s, &kw, aes, NULL, 40, ut, 3, &h), ARGUMENTS_BAD);
  S(f->C_UnwrapKey(s, &kw, aes, wrapped, 40, NULL, 3, &h), ARGUMENTS_BAD);
  S(f->C_UnwrapKey(s, &kw, aes, wrapped, 40, ut, 3, NULL), ARGUMENTS_BAD);
  S(f->C_UnwrapKey(s, &kw, BAD_HANDLE, wrapped, 40, ut, 3, &h), UNWRAPPING_KEY_HANDLE_INVALID);
  /* Wrapped data of the wrong length: either code (v3.0 5.14.4). */
  S(f->C_UnwrapKey(s, &kw, aes, wrapped, 39, ut, 3, &h), WRAPPED_KEY_LEN_RANGE, WRAPPED_KEY_INVALID);
  S(f->C_UnwrapKey(s, &kw, aes, wrapped, 40, ut, 3, &h), OK);

  /* Derivation (5.14.5). */
  ECDH1 ep = {1 /* CKD_NULL */, 0, NULL, q_point.ulValueLen, point};
  M ecdh = {CKM_ECDH1_DERIVE, &ep, sizeof ep}, ecdh_bad = {CKM_ECDH1_DERIVE, &ep, sizeof ep + 1};
  A dk[] = {{CKA_CLASS, &cls_secret, sizeof cls_secret}, {CKA_KEY_TYPE, &kt_aes, sizeof kt_aes},
            {CKA_VALUE_LEN, &vlen, sizeof vlen}};
  S(f->C_DeriveKey(BAD_HANDLE, &ecdh, priv, dk, 3, &h), SESSION_HANDLE_INVALID);
  S(f->C_DeriveKey(s, NULL, priv, dk, 3, &h), ARGUMENTS_BAD);
  S(f->C_DeriveKey(s, &ecdh, priv, NULL, 3, &h), ARGUMENTS_BAD);
  S(f->C_DeriveKey(s, &ecdh, priv, dk, 3, NULL), ARGUMENTS_BAD);
  S(f->C_DeriveKey(s, &ecdh_bad, priv, dk, 3, &h), MECHANISM_PARAM_INVALID);
  S(f->C_DeriveKey(s, &ecdh, BAD_HANDLE, dk, 3, &h), KEY_HANDLE_INVALID);
  /* A base key without CKA_DERIVE. */
  S(f->C_DeriveKey(s, &ecdh, priv, dk, 3, &h), KEY_FUNCTION_NOT_PERMITTED, KEY_TYPE_INCONSISTENT);

  /* Random numbers (5.15). */
  S(f->C_SeedRandom(BAD_HANDLE, data, 8), SESSION_HANDLE_INVALID);
  S(f->C_SeedRandom(s, NULL, 8), ARGUMENTS_BAD);
  S(f->C_SeedRandom(s, data, 8), OK, RANDOM_SEED_NOT_SUPPORTED);
  S(f->C_GenerateRandom(BAD_HANDLE, out, 8), SESSION_HANDLE_INVALID);
  S(f->C_GenerateRandom(s, NULL, 8), ARGUMENTS_BAD);
  S(f->C_GenerateRandom(s, NULL, 0), OK);
  S(f->C_GenerateRandom(s, out, sizeof out), OK);
  S(f->C_GenerateRandom(ro, out, 16), OK);

  /* Operation state (5.6.6, 5.6.7), not offered. */
  S(f->C_GetOperationState(s, NULL, NULL), ARGUMENTS_BAD, FUNCTION_NOT_SUPPORTED);

  S(f->C_DestroyObject(s, dobj), OK);
  S(f->C_DestroyObject(s, dobj), OBJECT_HANDLE_INVALID);
  S(f->C_DestroyObject(s, aes), OK);
  S(f->C_DestroyObject(s, pub), OK);
  S(f->C_DestroyObject(s, priv), OK);
}

/* Library-wide functions once initialized (5.4.3, 5.5.x, 5.6.3). */
static void table_general(void) {
  CK_INFO info;
  UL sl = 0;
  int reserved = 0;
  X(f->C_GetInfo(NULL), ARGUMENTS_BAD);
  if (X(f->C_GetInfo(&info), OK) == OK)
    FACT(info.cryptokiVersion.major == 3 && info.cryptokiVersion.minor == 0);
  X(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &sl, NULL), NO_EVENT);
  X(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, NULL, NULL), ARGUMENTS_BAD);
  X(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &sl, &reserved), ARGUMENTS_BAD);
  X(f->C_WaitForSlotEvent(0, &sl, NULL), FUNCTION_NOT_SUPPORTED);
  X(f->C_CloseAllSessions(BAD_SLOT), SLOT_ID_INVALID);
  X(f->C_CloseSession(BAD_HANDLE), SESSION_HANDLE_INVALID);
  X(f->C_GetSessionInfo(BAD_HANDLE, NULL), SESSION_HANDLE_INVALID);
  X(f->C_SessionCancel(BAD_HANDLE, 0), SESSION_HANDLE_INVALID);
}

/* The single-threaded live phase after table_slots_and_login: a logged-in run of
 * table_session, token objects against a read-only session, then the public state. */
static void table_live(void) {
  table_general();
  SH s = open_rw(), ro = 0;
  X(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro), OK);
  X(f->C_Login(s, CKU_USER, PIN(CO_PIN)), OK);
  table_session(s, ro, "single");

  /* Token objects cannot be changed through a read-only session (5.7.3, 5.7.6). */
  UL cls_data = CKO_DATA;
  B yes = 1;
  OH tok = 0;
  A dt[] = {{CKA_CLASS, &cls_data, sizeof cls_data}, {CKA_TOKEN, &yes, 1}};
  A lbl = {CKA_LABEL, "ro", 2};
  X(f->C_CreateObject(s, dt, 2, &tok), OK);
  X(f->C_SetAttributeValue(ro, tok, &lbl, 1), SESSION_READ_ONLY);
  X(f->C_DestroyObject(ro, tok), SESSION_READ_ONLY);
  X(f->C_DestroyObject(s, tok), OK);

  /* A token key for the public-state checks below. */
  OH pub = 0, priv = 0;
  X(gen_p256(s, 1, &pub, &priv), OK);
  X(f->C_Logout(s), OK);
  CK_SESSION_INFO si;
  if (X(f->C_GetSessionInfo(s, &si), OK) == OK) FACT(si.state == CKS_RW_PUBLIC_SESSION);
  /* Not logged in: private objects are out of reach; either code (v3.0 5.11.1). */
  M ecdsa = {CKM_ECDSA_SHA256, NULL, 0};
  X(f->C_SignInit(s, &ecdsa, priv), USER_NOT_LOGGED_IN, KEY_HANDLE_INVALID);
  OH k = 0;
  X(gen_aes(s, 0, &k), USER_NOT_LOGGED_IN);
  X(f->C_Login(s, CKU_USER, PIN(CO_PIN)), OK);
  X(f->C_DestroyObject(s, priv), OK);
  X(f->C_DestroyObject(s, pub), OK);
  X(f->C_CloseSession(ro), OK);
  X(f->C_CloseSession(s), OK);
  X(f->C_CloseSession(s), SESSION_HANDLE_INVALID);
}

/* ------------------------------------------------------------------------------------------
 * Many threads at once: each opens sessions, logs in, runs table_session with real keys,
 * signatures, finds, and closes its sessions, while the closer thread closes every session of
 * the slot again and again. */
static int rounds = 3;
static volatile int workers_done;

static void *worker(void *arg) {
  long id = (long)arg;
  char tag[32];
  snprintf(tag, sizeof tag, "thread-%ld", id);
  phase = "threads";
  racy = 1;
  for (int r = 0; r < rounds; r++) {
    SH s = 0, ro = 0;
    if (X(f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), OK) != OK)
      continue;
    X(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro), OK);
    CK_RV rv = S(f->C_Login(s, CKU_USER, PIN(CO_PIN)), OK, USER_ALREADY_LOGGED_IN);
    if (rv == OK || rv == USER_ALREADY_LOGGED_IN) {
      table_session(s, ro, tag);
      OH pub = 0, priv = 0;
      if (S(gen_p256(s, 0, &pub, &priv), OK) == OK) {
        M ecdsa = {CKM_ECDSA_SHA256, NULL, 0};
        B msg[20] = "torture", sig[64] = {0};
        UL siglen = sizeof sig;
        if (S(f->C_SignInit(s, &ecdsa, priv), OK) == OK &&
            S(f->C_Sign(s, msg, sizeof msg, sig, &siglen), OK) == OK &&
            S(f->C_VerifyInit(s, &ecdsa, pub), OK) == OK)
          S(f->C_Verify(s, msg, sizeof msg, sig, siglen), OK);
      }
    }
    S(f->C_CloseSession(ro), OK);
    S(f->C_CloseSession(s), OK);
    S(f->C_CloseSession(s), SESSION_HANDLE_INVALID);
  }
  __atomic_add_fetch(&workers_done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void *closer(void *arg) {
  long workers = (long)arg;
  phase = "closer";
  while (__atomic_load_n(&workers_done, __ATOMIC_SEQ_CST) < workers) {
    X(f->C_CloseAllSessions(slot), OK);
    usleep(60000);
  }
  return NULL;
}

static void threads(int n) {
  pthread_t t[64], c;
  workers_done = 0;
  for (long i = 0; i < n; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  pthread_create(&c, NULL, closer, (void *)(long)n);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  pthread_join(c, NULL);
}

/* After everything: a real signature. */
static void working_signature(void) {
  SH s = open_rw();
  X(f->C_Login(s, CKU_USER, PIN(CO_PIN)), OK);
  OH pub = 0, priv = 0;
  X(gen_p256(s, 0, &pub, &priv), OK);
  M ecdsa = {CKM_ECDSA_SHA256, NULL, 0};
  B msg[] = "after finalize and initialize", sig[64] = {0};
  UL siglen = sizeof sig;
  X(f->C_SignInit(s, &ecdsa, priv), OK);
  X(f->C_Sign(s, msg, sizeof msg, sig, &siglen), OK);
  FACT(siglen == 64);
  X(f->C_VerifyInit(s, &ecdsa, pub), OK);
  X(f->C_Verify(s, msg, sizeof msg, sig, siglen), OK);
  X(f->C_CloseSession(s), OK);
}

static long mark;
static double since(void) {
  static struct timespec t0;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  double d = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
  t0 = t;
  return d;
}
static void end_phase(const char *name) {
  printf("phase %s: %ld calls checked in %.1f s\n", name, checks - mark, since());
  fflush(stdout);
  mark = checks;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *r = getenv("STRONGROOM_TORTURE_ROUNDS");
  if (r && atoi(r) > 0) rounds = atoi(r);
  int nthreads = 8;
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 2; }
  CK_RV (*get_interface)(B *, CK_VERSION *, CK_INTERFACE **, UL) =
      (CK_RV(*)(B *, CK_VERSION *, CK_INTERFACE **, UL))dlsym(lib, "C_GetInterface");
  CK_INTERFACE *iface = NULL;
  CK_VERSION v30 = {3, 0};
  if (!get_interface || get_interface((B *)"PKCS 11", &v30, &iface, 0) != OK) return 2;
  f = (F *)iface->pFunctionList;

  since();
  phase = "before C_Initialize";
  table_uninitialized();
  table_interfaces();
  end_phase("before-initialize");

  phase = "initialized";
  initialize();
  table_interfaces();
  table_slots_and_login();
  table_live();
  end_phase("initialized");

  phase = "threads";
  threads(nthreads);
  printf("%d threads x %d rounds; %ld calls found their session closed by another thread\n",
         nthreads, rounds, interrupted);
  end_phase("threads");

  phase = "after C_Finalize";
  int reserved = 0;
  X(f->C_Finalize(&reserved), ARGUMENTS_BAD);
  X(f->C_Finalize(NULL), OK);
  table_uninitialized();
  table_interfaces();
  end_phase("after-finalize");

  phase = "initialized again";
  X(f->C_Initialize(NULL), OK);
  working_signature();
  X(f->C_Finalize(NULL), OK);
  end_phase("initialized-again");

  printf("%ld calls checked, %ld mismatches\n", checks, failures);
  dlclose(lib);
  return failures == 0 ? 0 : 1;
}
