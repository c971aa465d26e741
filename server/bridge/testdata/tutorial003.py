from sys import stdout, stdin
import threading
from time import sleep
import datetime
import sys


def send(data):
    # send string to web page
    time_now=datetime.datetime.now().strftime("%Y-%m-%d-%H-%M-%S")
    _str="S->C:{}\n".format(data)
    stdout.write(_str)
    stdout.flush()

# start a thread to receive & echo back strings from web page
# and to change sleep time
def receive():
    while True:
        data = stdin.readline().strip()
        if data:
                _str="C->S:{}\n".format(data)
                send(_str)


def send_stuff():
    while True:
        time_now_str=datetime.datetime.now().strftime("%Y-%m-%d-%H-%M-%S")  
        __str=str("[{}] Test Data per 5s ".format(time_now_str))
        send(__str)
        sleep(5)
        __str=""
    

t0 = threading.Thread(target=receive)
t0.start()


t1 = threading.Thread(target=send_stuff)
t1.start()


# suspend main thread until worker threads are done
t0.join()
t1.join()

