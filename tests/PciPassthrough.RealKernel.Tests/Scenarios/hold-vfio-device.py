#!/usr/bin/python3
"""Holds a VFIO device fd the way QEMU does (group -> container -> VFIO_GROUP_GET_DEVICE_FD), then closes
its own group fd: the device fd keeps the device busy (the kernel blocks its removal), while /proc/<pid>/fd
no longer shows /dev/vfio/<group>. Usage: hold-vfio-device.py <group> <address>; prints 'holding' and
sleeps until killed."""
import fcntl, os, struct, sys, time

VFIO = ord(';') << 8
VFIO_SET_IOMMU = VFIO | 102
VFIO_GROUP_SET_CONTAINER = VFIO | 104
VFIO_GROUP_GET_DEVICE_FD = VFIO | 106
VFIO_TYPE1_IOMMU = 1

group, address = sys.argv[1], sys.argv[2]
container = os.open('/dev/vfio/vfio', os.O_RDWR)
group_fd = os.open('/dev/vfio/' + group, os.O_RDWR)
fcntl.ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, struct.pack('i', container))
fcntl.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)
device_fd = fcntl.ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, bytearray(address.encode() + b'\0'), True)
os.close(group_fd)
print('holding', device_fd, flush=True)
while True:
    time.sleep(3600)
