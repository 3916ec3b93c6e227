/* SPDX-License-Identifier: MIT */
/*
 * Linux test shim for Apple's <CoreFoundation/CoreFoundation.h>: only the
 * declarations upci's dext backend uses, with Apple's names and
 * signatures (CFSTR is CoreFoundation's own non-Apple-compiler fallback).
 */
#ifndef UPCI_SHIM_COREFOUNDATION_H
#define UPCI_SHIM_COREFOUNDATION_H

typedef unsigned char Boolean;
typedef unsigned char UInt8;
typedef long CFIndex;
typedef unsigned long CFTypeID;
typedef const void *CFTypeRef;
typedef const struct __CFString *CFStringRef;
typedef const struct __CFAllocator *CFAllocatorRef;
typedef const struct __CFDictionary *CFDictionaryRef;
typedef const struct __CFData *CFDataRef;
typedef struct __CFDictionary *CFMutableDictionaryRef;

extern const CFAllocatorRef kCFAllocatorDefault;

CFStringRef __CFStringMakeConstantString(const char *cStr);
#define CFSTR(cStr) __CFStringMakeConstantString("" cStr "")

Boolean CFEqual(CFTypeRef cf1, CFTypeRef cf2);
void CFRelease(CFTypeRef cf);
CFTypeID CFGetTypeID(CFTypeRef cf);

CFTypeID CFDataGetTypeID(void);
CFIndex CFDataGetLength(CFDataRef theData);
const UInt8 *CFDataGetBytePtr(CFDataRef theData);

#endif
